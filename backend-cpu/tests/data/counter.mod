: Test mechanism (ours): counts the events of each connection in NET_RECEIVE's second
: argument (per-connection state, as a NetCon's weight vector in NEURON) and sums weights.
NEURON {
    POINT_PROCESS Counter
    RANGE total, last_count, events
}
ASSIGNED {
    total
    last_count
    events
}
INITIAL {
    total = 0
    last_count = 0
    events = 0
}
NET_RECEIVE (w, n) {
    INITIAL { n = 10 }
    n = n + 1
    total = total + w
    last_count = n
    events = events + 1
}
