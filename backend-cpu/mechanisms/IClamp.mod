COMMENT
IClamp: a current pulse injected through an electrode.
Parameters (NEURON's documented defaults, all 0): del (ms) onset, dur (ms) duration,
amp (nA) amplitude. i = amp for del <= t < del + dur, else 0.
ELECTRODE_CURRENT: positive i depolarises the cell (it enters the membrane balance with the
opposite sign of a membrane current).
ENDCOMMENT

NEURON {
    POINT_PROCESS IClamp
    RANGE del, dur, amp, i
    ELECTRODE_CURRENT i
}

UNITS {
    (nA) = (nanoamp)
}

PARAMETER {
    del = 0 (ms)
    dur = 0 (ms) <0, 1e9>
    amp = 0 (nA)
}

ASSIGNED {
    i (nA)
}

INITIAL {
    i = 0
}

BREAKPOINT {
    at_time(del)
    at_time(del + dur)
    if (t >= del && t < del + dur) {
        i = amp
    } else {
        i = 0
    }
}
