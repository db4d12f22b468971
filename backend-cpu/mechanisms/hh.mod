COMMENT
hh: Hodgkin-Huxley sodium, potassium and leak channels of the squid giant axon
(Hodgkin & Huxley 1952, J. Physiol. 117:500-544), written for neuwon from the published
equations with NEURON's documented parameters and sign convention (membrane potential v in mV,
resting near -65 mV, depolarisation positive).

Parameters (NEURON's documented defaults):
  gnabar = 0.12   S/cm2   maximal sodium conductance
  gkbar  = 0.036  S/cm2   maximal potassium conductance
  gl     = 0.0003 S/cm2   leak conductance
  el     = -54.3  mV      leak reversal potential
ena and ek come from the na and k ion pools (defaults 50 mV and -77 mV).

Equations (rates in 1/ms, v in mV):
  alpha_m = 0.1 (v+40) / (1 - exp(-(v+40)/10))     beta_m = 4 exp(-(v+65)/18)
  alpha_h = 0.07 exp(-(v+65)/20)                   beta_h = 1 / (1 + exp(-(v+35)/10))
  alpha_n = 0.01 (v+55) / (1 - exp(-(v+55)/10))    beta_n = 0.125 exp(-(v+65)/80)
  q10 = 3^((celsius - 6.3)/10)
  x_inf = alpha/(alpha+beta),  tau_x = 1/(q10 (alpha+beta))
  dx/dt = (x_inf - x)/tau_x  for x in m, h, n   (solved with cnexp)
  ina = gnabar m^3 h (v - ena),  ik = gkbar n^4 (v - ek),  il = gl (v - el)   (mA/cm2)
The removable singularities of alpha_m, alpha_n are evaluated by linoid().
The rates are tabulated over -100..100 mV in 200 intervals (recomputed when celsius changes),
as NEURON's hh does; the table can be switched off for exact rates.
ENDCOMMENT

NEURON {
    SUFFIX hh
    USEION na READ ena WRITE ina
    USEION k READ ek WRITE ik
    NONSPECIFIC_CURRENT il
    RANGE gnabar, gkbar, gl, el, gna, gk
    RANGE minf, hinf, ninf, mtau, htau, ntau
    THREADSAFE
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gnabar = 0.12 (S/cm2) <0, 1e9>
    gkbar = 0.036 (S/cm2) <0, 1e9>
    gl = 0.0003 (S/cm2) <0, 1e9>
    el = -54.3 (mV)
}

STATE { m h n }

ASSIGNED {
    v (mV)
    celsius (degC)
    ena (mV)
    ek (mV)
    gna (S/cm2)
    gk (S/cm2)
    ina (mA/cm2)
    ik (mA/cm2)
    il (mA/cm2)
    minf hinf ninf
    mtau (ms) htau (ms) ntau (ms)
}

BREAKPOINT {
    SOLVE gates METHOD cnexp
    gna = gnabar*m*m*m*h
    ina = gna*(v - ena)
    gk = gkbar*n*n*n*n
    ik = gk*(v - ek)
    il = gl*(v - el)
}

INITIAL {
    settables(v)
    m = minf
    h = hinf
    n = ninf
}

DERIVATIVE gates {
    settables(v)
    m' = (minf - m)/mtau
    h' = (hinf - h)/htau
    n' = (ninf - n)/ntau
}

PROCEDURE settables(v (mV)) {
    LOCAL a, b, q10
    TABLE minf, mtau, hinf, htau, ninf, ntau DEPEND celsius FROM -100 TO 100 WITH 200
    UNITSOFF
    q10 = 3^((celsius - 6.3)/10)
    a = 0.1*linoid(-(v + 40), 10)
    b = 4*exp(-(v + 65)/18)
    minf = a/(a + b)
    mtau = 1/(q10*(a + b))
    a = 0.07*exp(-(v + 65)/20)
    b = 1/(1 + exp(-(v + 35)/10))
    hinf = a/(a + b)
    htau = 1/(q10*(a + b))
    a = 0.01*linoid(-(v + 55), 10)
    b = 0.125*exp(-(v + 65)/80)
    ninf = a/(a + b)
    ntau = 1/(q10*(a + b))
    UNITSON
}

FUNCTION linoid(x, y) {
    : x/(exp(x/y) - 1), with its limit y(1 - x/(2y)) near x = 0
    if (fabs(x/y) < 1e-6) {
        linoid = y*(1 - x/y/2)
    } else {
        linoid = x/(exp(x/y) - 1)
    }
}
