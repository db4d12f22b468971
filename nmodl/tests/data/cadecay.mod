: Submembrane calcium: influx from the calcium current into a shell of depth
: `depth`, first-order removal towards `cainf` with time constant `taur`.
: Written for neuwon from the textbook shell model.

NEURON {
    SUFFIX cashell
    USEION ca READ ica WRITE cai
    RANGE depth, taur, cainf
}

UNITS {
    (mA) = (milliamp)
    (mM) = (milli/liter)
    (um) = (micron)
    FARADAY = (faraday) (coulomb)
}

PARAMETER {
    depth = 0.1 (um) <1e-9, 1e9>
    taur = 200 (ms) <1e-9, 1e9>
    cainf = 1e-4 (mM)
}

ASSIGNED { ica (mA/cm2) }

STATE { cai (mM) }

INITIAL { cai = cainf }

BREAKPOINT { SOLVE conc METHOD cnexp }

DERIVATIVE conc {
    LOCAL influx
    : mA/cm2 -> mM/ms in a shell `depth` um deep: 1e4/(2 F depth)
    influx = -ica*(1e4)/(2*FARADAY*depth)
    if (influx < 0) { influx = 0 }
    cai' = influx + (cainf - cai)/taur
}
