//! V9 of `shared/specs/morpho-grow.md`: region predicates on boundaries, bounding boxes,
//! set identities, sampling statistics, named regions and their cycles.

#![allow(clippy::unwrap_used)]

use morpho_grow::region::{
    lattice_points, sample_point, sample_points, Region, RegionLibrary, RegionSpec, Vec3,
};
use rand::{Rng, SeedableRng};

fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

#[test]
fn boundaries_closed_sphere_half_open_rectangle_and_cylinder_caps() {
    let s = Region::sphere([1.0, 2.0, 3.0], 4.0);
    assert!(s.contains(&[5.0, 2.0, 3.0]));
    assert!(!s.contains(&[5.000001, 2.0, 3.0]));
    let r = Region::Rectangle {
        lo: [0.0, 0.0, 0.0],
        hi: [1.0, 2.0, 3.0],
    };
    assert!(r.contains(&[0.0, 0.0, 0.0]));
    assert!(!r.contains(&[1.0, 1.0, 1.0]));
    assert!(!r.contains(&[0.5, 2.0, 1.0]));
    assert!(r.contains(&[0.999, 1.999, 2.999]));
    let c = Region::Cylinder {
        p1: [0.0, 0.0, 0.0],
        p2: [0.0, 0.0, 10.0],
        radius: 2.0,
    };
    assert!(c.contains(&[0.0, 0.0, 0.0]));
    assert!(c.contains(&[2.0, 0.0, 10.0]));
    assert!(!c.contains(&[0.0, 0.0, 10.000001]));
    assert!(!c.contains(&[0.0, 0.0, -1e-9]));
    assert!(!c.contains(&[2.0001, 0.0, 5.0]));
    // cone: apex at the origin, base at z = 10 with radius 5: radius 2.5 at z = 5
    let k = Region::Cone {
        apex: [0.0; 3],
        base: [0.0, 0.0, 10.0],
        radius: 5.0,
    };
    assert!(k.contains(&[2.5, 0.0, 5.0]));
    assert!(!k.contains(&[2.6, 0.0, 5.0]));
    assert!(k.contains(&[0.0, 5.0, 10.0]));
    assert!(!k.contains(&[0.0, 0.0, 10.1]));
    assert!(!k.contains(&[0.0, 0.0, -0.1]));
    assert!(Region::Everywhere.contains(&[1e300, 0.0, 0.0]));
    assert!(!Region::Nowhere.contains(&[0.0; 3]));
}

#[test]
fn tilted_cylinder_box_is_tight() {
    let (p1, p2, r) = ([1.0, -2.0, 0.5], [7.0, 3.0, -4.0], 1.5);
    let c = Region::Cylinder { p1, p2, radius: r };
    let b = c.aabb();
    let a: Vec3 = [p2[0] - p1[0], p2[1] - p1[1], p2[2] - p1[2]];
    let na = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    let u = [a[0] / na, a[1] / na, a[2] / na];
    for k in 0..3 {
        // the point of an end disc farthest along axis k: e_k minus its axial part
        let mut e = [0.0; 3];
        e[k] = 1.0;
        let proj = u[k];
        let w: Vec<f64> = (0..3).map(|j| e[j] - proj * u[j]).collect();
        let nw = (w[0] * w[0] + w[1] * w[1] + w[2] * w[2]).sqrt();
        let hi = p1[k].max(p2[k]) + r * w[k] / nw;
        let lo = p1[k].min(p2[k]) - r * w[k] / nw;
        assert!(
            (b.hi[k] - hi).abs() < 1e-12,
            "axis {k}: {} vs {hi}",
            b.hi[k]
        );
        assert!(
            (b.lo[k] - lo).abs() < 1e-12,
            "axis {k}: {} vs {lo}",
            b.lo[k]
        );
    }
}

#[test]
fn sampled_points_lie_in_the_box_and_the_region() {
    let shapes = [
        Region::sphere([10.0, 0.0, -5.0], 30.0),
        Region::Cylinder {
            p1: [0.0, 0.0, 0.0],
            p2: [40.0, 30.0, -20.0],
            radius: 8.0,
        },
        Region::Cone {
            apex: [0.0, 0.0, 0.0],
            base: [-20.0, 40.0, 10.0],
            radius: 15.0,
        },
        Region::Union(vec![
            Region::sphere([0.0; 3], 10.0),
            Region::sphere([50.0, 0.0, 0.0], 5.0),
        ]),
        Region::Intersection(vec![
            Region::sphere([0.0; 3], 20.0),
            Region::Not(Box::new(Region::sphere([0.0; 3], 10.0))),
        ]),
    ];
    for (i, s) in shapes.iter().enumerate() {
        let b = s.aabb();
        let pts = sample_points(s, 0.05, &mut rng(i as u64)).unwrap();
        assert!(pts.len() > 50, "shape {i}: {} points", pts.len());
        for p in &pts {
            assert!(b.contains(p) && s.contains(p), "shape {i}: {p:?}");
        }
        let p = sample_point(s, &mut rng(99)).unwrap();
        assert!(s.contains(&p));
    }
}

#[test]
fn de_morgan_identities_hold_on_random_points() {
    let a = Region::sphere([0.0; 3], 10.0);
    let b = Region::Cylinder {
        p1: [-15.0, 0.0, 0.0],
        p2: [15.0, 3.0, 0.0],
        radius: 4.0,
    };
    let not = |r: &Region| Region::Not(Box::new(r.clone()));
    let l1 = not(&Region::Union(vec![a.clone(), b.clone()]));
    let r1 = Region::Intersection(vec![not(&a), not(&b)]);
    let l2 = not(&Region::Intersection(vec![a.clone(), b.clone()]));
    let r2 = Region::Union(vec![not(&a), not(&b)]);
    let mut g = rng(4);
    let mut inside = 0;
    for _ in 0..20_000 {
        let p = [
            g.gen_range(-20.0..20.0),
            g.gen_range(-20.0..20.0),
            g.gen_range(-20.0..20.0),
        ];
        assert_eq!(l1.contains(&p), r1.contains(&p));
        assert_eq!(l2.contains(&p), r2.contains(&p));
        inside += usize::from(a.contains(&p) && b.contains(&p));
    }
    assert!(inside > 0, "the test points never hit the intersection");
}

#[test]
fn sample_count_is_binomial_around_density_times_volume() {
    let s = Region::sphere([0.0; 3], 50.0);
    let density = 0.01;
    let n_box = (density * 100.0f64.powi(3)).round();
    let p = std::f64::consts::PI / 6.0; // sphere / box volume
    let mean = n_box * p;
    let sigma = (n_box * p * (1.0 - p)).sqrt();
    for seed in 0..5 {
        let got = sample_points(&s, density, &mut rng(seed)).unwrap().len() as f64;
        assert!(
            (got - mean).abs() < 5.0 * sigma,
            "{got} vs {mean} ± {sigma}"
        );
    }
}

#[test]
fn infinite_boxes_cannot_be_sampled_and_empty_regions_give_nothing() {
    let out = Region::Not(Box::new(Region::sphere([0.0; 3], 1.0)));
    assert!(sample_points(&out, 1.0, &mut rng(1)).is_err());
    assert!(sample_points(&Region::Everywhere, 1.0, &mut rng(1)).is_err());
    assert!(lattice_points(&Region::Everywhere, 1.0).is_err());
    assert!(sample_points(&Region::Nowhere, 1.0, &mut rng(1))
        .unwrap()
        .is_empty());
    assert!(sample_points(&Region::sphere([0.0; 3], 1.0), -1.0, &mut rng(1)).is_err());
    let disjoint = Region::Intersection(vec![
        Region::sphere([0.0; 3], 1.0),
        Region::sphere([10.0, 0.0, 0.0], 1.0),
    ]);
    assert!(disjoint.aabb().is_empty());
    assert!(sample_point(&disjoint, &mut rng(1)).is_err());
}

#[test]
fn lattice_has_the_spacing_of_the_density() {
    // spacing 2 µm: a box of 10 × 6 × 4 µm holds 5 × 3 × 2 lattice points
    let r = Region::Rectangle {
        lo: [0.0; 3],
        hi: [10.0, 6.0, 4.0],
    };
    let pts = lattice_points(&r, 0.125).unwrap();
    assert_eq!(pts.len(), 30);
    assert!(pts.contains(&[1.0, 1.0, 1.0]) && pts.contains(&[9.0, 5.0, 3.0]));
    let mut min_d = f64::INFINITY;
    for (i, a) in pts.iter().enumerate() {
        for b in &pts[i + 1..] {
            let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
            min_d = min_d.min(d);
        }
    }
    assert!((min_d - 2.0).abs() < 1e-12);
}

#[test]
fn named_regions_resolve_and_every_cycle_is_an_error() {
    let mut lib = RegionLibrary::new();
    lib.insert("ball", RegionSpec::Shape(Region::sphere([0.0; 3], 5.0)));
    lib.insert(
        "shell",
        RegionSpec::Intersection(vec![
            RegionSpec::Named("big".into()),
            RegionSpec::Not(Box::new(RegionSpec::Named("ball".into()))),
        ]),
    );
    lib.insert("big", RegionSpec::Shape(Region::sphere([0.0; 3], 10.0)));
    let shell = lib.get("shell").unwrap();
    assert!(shell.contains(&[7.0, 0.0, 0.0]) && !shell.contains(&[1.0, 0.0, 0.0]));
    lib.check_all().unwrap();

    lib.insert("a", RegionSpec::Named("b".into()));
    lib.insert(
        "b",
        RegionSpec::Union(vec![
            RegionSpec::Named("ball".into()),
            RegionSpec::Named("c".into()),
        ]),
    );
    lib.insert(
        "c",
        RegionSpec::Not(Box::new(RegionSpec::Named("a".into()))),
    );
    let e = lib.get("a").unwrap_err().to_string();
    assert!(e.contains("cycle") && e.contains("a -> b -> c -> a"), "{e}");
    assert!(lib.check_all().is_err());
    lib.insert("self", RegionSpec::Named("self".into()));
    assert!(lib.get("self").unwrap_err().to_string().contains("cycle"));
    let e = lib.get("nope").unwrap_err().to_string();
    assert!(e.contains("unknown region \"nope\""), "{e}");
}

#[test]
fn translated_regions_move_their_points() {
    let r = Region::Union(vec![
        Region::sphere([0.0; 3], 1.0),
        Region::Cone {
            apex: [0.0; 3],
            base: [0.0, 5.0, 0.0],
            radius: 1.0,
        },
    ]);
    let t = r.translated(&[10.0, 0.0, 0.0]);
    assert!(t.contains(&[10.0, 4.0, 0.0]) && !t.contains(&[0.0, 4.0, 0.0]));
}
