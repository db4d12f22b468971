: A three-state potassium channel as a kinetic scheme, written for neuwon:
: C1 <-> C2 <-> O with Boltzmann-type voltage-dependent rates.

NEURON {
    SUFFIX kin3
    USEION k READ ek WRITE ik
    RANGE gbar, g
    GLOBAL a0, b0, za, zb
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gbar = 0.01 (S/cm2)
    a0 = 0.2 (/ms)
    b0 = 0.05 (/ms)
    za = 0.04 (/mV)
    zb = 0.03 (/mV)
}

ASSIGNED {
    v (mV)
    ek (mV)
    ik (mA/cm2)
    g (S/cm2)
    a (/ms)
    b (/ms)
}

STATE { C1 C2 O }

BREAKPOINT {
    SOLVE scheme METHOD sparse
    g = gbar*O
    ik = g*(v - ek)
}

INITIAL {
    SOLVE scheme STEADYSTATE sparse
}

KINETIC scheme {
    rates(v)
    ~ C1 <-> C2 (2*a, b)
    ~ C2 <-> O (a, 2*b)
    CONSERVE C1 + C2 + O = 1
}

PROCEDURE rates(v (mV)) {
    a = a0*exp(za*v)
    b = b0*exp(-zb*v)
}
