COMMENT
refdrive_k: the conformance protocol's concentration driver for the k ion (written for
neuwon from the protocol's description in shared/nmodl/README.md, "Concentration drivers").
A fixed linear k conductance g, so that a mechanism that only reads ik and writes a
k concentration has an influx to integrate:
    ik = g*(v - ek)   (mA/cm2; g in S/cm2, v and ek in mV)
ENDCOMMENT

NEURON {
    SUFFIX refdrive_k
    USEION k READ ek WRITE ik
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
    ek (mV)
    ik (mA/cm2)
}

BREAKPOINT {
    ik = g*(v - ek)
}
