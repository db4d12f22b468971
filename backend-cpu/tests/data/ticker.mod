: Test mechanism (ours): an artificial cell that emits `number` output events, the first at
: `start` and then every `interval` ms.
NEURON {
    ARTIFICIAL_CELL Ticker
    RANGE interval, number, start
}
PARAMETER {
    interval = 5 (ms)
    number = 3
    start = 1 (ms)
}
ASSIGNED { sent }
INITIAL {
    sent = 0
    net_send(start, 1)
}
NET_RECEIVE (w) {
    if (flag == 1) {
        net_event(t)
        sent = sent + 1
        if (sent < number) {
            net_send(interval, 1)
        }
    }
}
