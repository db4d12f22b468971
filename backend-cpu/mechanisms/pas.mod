COMMENT
pas: passive leak, i = g (v - e).
Parameters (NEURON's documented defaults): g = 0.001 S/cm2, e = -70 mV.
Current i in mA/cm2 (NONSPECIFIC_CURRENT, outward positive).
ENDCOMMENT

NEURON {
    SUFFIX pas
    NONSPECIFIC_CURRENT i
    RANGE g, e
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    g = 0.001 (S/cm2) <0, 1e9>
    e = -70 (mV)
}

ASSIGNED {
    v (mV)
    i (mA/cm2)
}

BREAKPOINT {
    i = g*(v - e)
}
