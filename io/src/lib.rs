//! # spikegrad-io
//!
//! spikegrad's file formats, usable without its command line: .npy arrays read and
//! written with every size checked against the bytes present ([`npy`]), and output folders
//! written whole or not at all, replacing only their own writer's earlier output
//! ([`staging`]). Errors are typed: each says which file (or folder) is at fault and what
//! is wrong with it.
#![deny(missing_docs)]

pub mod npy;
pub mod staging;
