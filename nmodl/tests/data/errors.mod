: Deliberately broken: every block below has one mistake. The diagnostics test
: checks that all of them are reported in one run.
NEURON {
    SUFFIX broken
    USEION na READ ena WRITE ina, gna
    RANGE gbar
}
PARAMETER { gbar = 0.1 (S/cm2) gbar = 0.2 }
STATE { m }
ASSIGNED { v (mV) ena (mV) ina (mA/cm2) }
BREAKPOINT {
    SOLVE nothere METHOD cnexp
    ina = gbar*m*(v - ena) + undefined_thing
}
DERIVATIVE states {
    m' = (1 - m)/
    LOCAL
}
INITIAL {
    m = f(1, 2)
}
FUNCTION f(x) { f = x }
