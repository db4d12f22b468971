//! SWC (placeholder)
