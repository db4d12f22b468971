COMMENT
refdrive_na: the conformance protocol's concentration driver for the na ion (written for
neuwon from the protocol's description in shared/nmodl/README.md, "Concentration drivers").
A fixed linear na conductance g, so that a mechanism that only reads ina and writes a
na concentration has an influx to integrate:
    ina = g*(v - ena)   (mA/cm2; g in S/cm2, v and ena in mV)
ENDCOMMENT

NEURON {
    SUFFIX refdrive_na
    USEION na READ ena WRITE ina
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
    ena (mV)
    ina (mA/cm2)
}

BREAKPOINT {
    ina = g*(v - ena)
}
