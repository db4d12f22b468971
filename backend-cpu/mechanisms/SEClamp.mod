COMMENT
SEClamp: single-electrode voltage clamp with series resistance rs, three successive levels.
Parameters (NEURON's documented defaults): rs = 1 MOhm; dur1, dur2, dur3 = 0 ms;
amp1, amp2, amp3 = 0 mV.
Command: vc = amp1 for t < dur1, amp2 for t < dur1 + dur2, amp3 for t < dur1 + dur2 + dur3;
after that the clamp is off (i = 0).
Electrode current i = (vc - v)/rs in nA (mV/MOhm); ELECTRODE_CURRENT: positive i
depolarises.
ENDCOMMENT

NEURON {
    POINT_PROCESS SEClamp
    ELECTRODE_CURRENT i
    RANGE dur1, amp1, dur2, amp2, dur3, amp3, rs, vc, i
}

UNITS {
    (nA) = (nanoamp)
    (mV) = (millivolt)
    (MOhm) = (megaohm)
}

PARAMETER {
    rs = 1 (MOhm) <1e-9, 1e9>
    dur1 = 0 (ms)
    amp1 = 0 (mV)
    dur2 = 0 (ms)
    amp2 = 0 (mV)
    dur3 = 0 (ms)
    amp3 = 0 (mV)
}

ASSIGNED {
    v (mV)
    i (nA)
    vc (mV)
    on
}

INITIAL {
    command()
}

BREAKPOINT {
    command()
    if (on) {
        i = (vc - v)/rs
    } else {
        i = 0
    }
}

PROCEDURE command() {
    on = 1
    at_time(dur1)
    at_time(dur1 + dur2)
    at_time(dur1 + dur2 + dur3)
    if (t < dur1) {
        vc = amp1
    } else if (t < dur1 + dur2) {
        vc = amp2
    } else if (t < dur1 + dur2 + dur3) {
        vc = amp3
    } else {
        vc = 0
        on = 0
    }
}
