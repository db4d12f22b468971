//! Which vector instruction sets the native kernels of the fast path may use.
//!
//! The kernels are compiled for AVX-512 (F and DQ), AVX2 with FMA, and the baseline of the
//! target, and the best one the CPU supports is picked at run time. [`set_simd_limit`] (or the
//! `NEUWON_SIMD` environment variable: `baseline`, `avx2` or `avx512`, read once) caps the
//! choice, to compare the kernels or to reproduce another machine's numbers: they agree to
//! rounding (fused multiply–adds in AVX-512's `exp`), far inside the 1e-9 relative that the
//! tests ask of every one of them against the interpreter.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// An instruction set level of the native kernels, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Simd {
    /// The compilation target's baseline (SSE2 on x86-64).
    Baseline,
    /// AVX2 and FMA.
    Avx2,
    /// AVX-512 F and DQ.
    Avx512,
}

impl Simd {
    /// The level named `name` (`baseline`, `avx2`, `avx512`), if any.
    pub fn from_name(name: &str) -> Option<Simd> {
        match name.trim().to_ascii_lowercase().as_str() {
            "baseline" | "none" | "scalar" => Some(Simd::Baseline),
            "avx2" => Some(Simd::Avx2),
            "avx512" | "avx-512" => Some(Simd::Avx512),
            _ => None,
        }
    }

    fn code(self) -> u8 {
        self as u8
    }

    fn from_code(c: u8) -> Simd {
        match c {
            0 => Simd::Baseline,
            1 => Simd::Avx2,
            _ => Simd::Avx512,
        }
    }
}

/// The best level this CPU supports.
pub fn detected() -> Simd {
    static CELL: OnceLock<Simd> = OnceLock::new();
    *CELL.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 =
                std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
            if avx2
                && std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512dq")
            {
                return Simd::Avx512;
            }
            if avx2 {
                return Simd::Avx2;
            }
        }
        Simd::Baseline
    })
}

/// u8::MAX: not set yet (then `NEUWON_SIMD` decides on first use).
static LIMIT: AtomicU8 = AtomicU8::new(u8::MAX);

/// Caps the level the kernels use (`None`: no cap). Takes effect on the next step of every
/// engine in the process.
pub fn set_simd_limit(limit: Option<Simd>) {
    LIMIT.store(
        limit.map_or(Simd::Avx512.code(), Simd::code),
        Ordering::Relaxed,
    );
}

/// The level the kernels use now: the CPU's best, capped by [`set_simd_limit`] or, if that
/// was never called, by `NEUWON_SIMD`.
pub fn simd() -> Simd {
    let mut cap = LIMIT.load(Ordering::Relaxed);
    if cap == u8::MAX {
        let from_env = std::env::var("NEUWON_SIMD")
            .ok()
            .and_then(|s| Simd::from_name(&s))
            .unwrap_or(Simd::Avx512);
        cap = from_env.code();
        // Another thread may have set a limit meanwhile: keep theirs.
        let _ = LIMIT.compare_exchange(u8::MAX, cap, Ordering::Relaxed, Ordering::Relaxed);
        cap = LIMIT.load(Ordering::Relaxed);
    }
    detected().min(Simd::from_code(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_order() {
        assert_eq!(Simd::from_name(" AVX512"), Some(Simd::Avx512));
        assert_eq!(Simd::from_name("avx2"), Some(Simd::Avx2));
        assert_eq!(Simd::from_name("baseline"), Some(Simd::Baseline));
        assert_eq!(Simd::from_name("sse9"), None);
        assert!(Simd::Baseline < Simd::Avx2 && Simd::Avx2 < Simd::Avx512);
        for s in [Simd::Baseline, Simd::Avx2, Simd::Avx512] {
            assert_eq!(Simd::from_code(s.code()), s);
        }
    }
}
