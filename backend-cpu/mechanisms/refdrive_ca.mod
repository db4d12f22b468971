COMMENT
refdrive_ca: the conformance protocol's concentration driver for the ca ion (written for
neuwon from the protocol's description in shared/nmodl/README.md, "Concentration drivers").
A fixed linear ca conductance g, so that a mechanism that only reads ica and writes a
ca concentration has an influx to integrate:
    ica = g*(v - eca)   (mA/cm2; g in S/cm2, v and eca in mV)
ENDCOMMENT

NEURON {
    SUFFIX refdrive_ca
    USEION ca READ eca WRITE ica
    RANGE g
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    g = 1e-4 (S/cm2)
}

ASSIGNED {
    v (mV)
    eca (mV)
    ica (mA/cm2)
}

BREAKPOINT {
    ica = g*(v - eca)
}
