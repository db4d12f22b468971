//! # backend-cuda — the GPU engine
//!
//! *Not built yet.* This crate will execute the lowered model of `backend-cpu` on NVIDIA GPUs
//! through `cudarc` with dynamic loading, so that it builds and its tests run (skipping GPU
//! work with a message) on machines without a GPU. Kernels are generated as CUDA source,
//! compiled with NVRTC at run time and checked against `backend-cpu`.
