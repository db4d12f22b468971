: Dual-exponential conductance synapse driven by NetCon events, written for
: neuwon: g = B - A, A and B decay with tau1 < tau2, each event adds
: weight*factor to both (factor normalises the peak to the weight).

NEURON {
    POINT_PROCESS DualExp
    RANGE tau1, tau2, e, i, g
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau1 = 0.5 (ms) <1e-9, 1e9>
    tau2 = 5 (ms) <1e-9, 1e9>
    e = 0 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
    factor
}

STATE { A (uS) B (uS) }

INITIAL {
    LOCAL tpeak
    if (tau1/tau2 > 0.9999) { tau1 = 0.9999*tau2 }
    A = 0
    B = 0
    tpeak = (tau1*tau2)/(tau2 - tau1)*log(tau2/tau1)
    factor = 1/(-exp(-tpeak/tau1) + exp(-tpeak/tau2))
}

BREAKPOINT {
    SOLVE decay METHOD cnexp
    g = B - A
    i = g*(v - e)
}

DERIVATIVE decay {
    A' = -A/tau1
    B' = -B/tau2
}

NET_RECEIVE(weight (uS)) {
    A = A + weight*factor
    B = B + weight*factor
}
