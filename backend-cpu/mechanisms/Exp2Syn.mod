COMMENT
Exp2Syn: dual-exponential synapse, g = B - A with A' = -A/tau1, B' = -B/tau2 (tau1 < tau2);
each event adds weight*factor to A and B, where factor normalises the peak of the
response to one event to the weight:
  tp = tau1 tau2/(tau2 - tau1) ln(tau2/tau1)   (time of the peak)
  factor = 1/(exp(-tp/tau2) - exp(-tp/tau1))
As in NEURON, tau1/tau2 is kept below 0.9999 (tau1 = 0.9999 tau2 otherwise) and above 1e-9.
Parameters (NEURON's documented defaults): tau1 = 0.1 ms, tau2 = 10 ms, e = 0 mV.
g in uS, i = g (v - e) in nA (NONSPECIFIC_CURRENT, outward positive).
ENDCOMMENT

NEURON {
    POINT_PROCESS Exp2Syn
    RANGE tau1, tau2, e, i, g
    NONSPECIFIC_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (uS) = (microsiemens)
}

PARAMETER {
    tau1 = 0.1 (ms) <1e-9, 1e9>
    tau2 = 10 (ms) <1e-9, 1e9>
    e = 0 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
    g (uS)
    factor
}

STATE {
    A (uS)
    B (uS)
}

INITIAL {
    LOCAL tp
    if (tau1/tau2 > 0.9999) {
        tau1 = 0.9999*tau2
    }
    if (tau1/tau2 < 1e-9) {
        tau1 = tau2*1e-9
    }
    A = 0
    B = 0
    tp = (tau1*tau2)/(tau2 - tau1)*log(tau2/tau1)
    factor = 1/(exp(-tp/tau2) - exp(-tp/tau1))
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
