COMMENT
ExpSyn: synapse whose conductance jumps by the NetCon weight at each event and decays
exponentially, g' = -g/tau; i = g (v - e).
Parameters (NEURON's documented defaults): tau = 0.1 ms, e = 0 mV.
g in uS (the NetCon weight's unit), i in nA (NONSPECIFIC_CURRENT, outward positive).
ENDCOMMENT

NEURON {
    POINT_PROCESS ExpSyn
    RANGE tau, e, i
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau = 0.1 (ms) <1e-9, 1e9>
    e = 0 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
}

STATE {
    g (uS)
}

INITIAL {
    g = 0
}

BREAKPOINT {
    SOLVE decay METHOD cnexp
    i = g*(v - e)
}

DERIVATIVE decay {
    g' = -g/tau
}

NET_RECEIVE(weight (uS)) {
    g = g + weight
}
