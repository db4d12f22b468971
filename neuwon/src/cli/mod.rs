//! Argument definitions and dispatch for the `neuwon` binary.

mod conform;
mod demo;
mod grow;
mod nmodl_check;
mod reduce;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// neuwon: conductance-based neuron simulation.
#[derive(Debug, Parser)]
#[command(name = "neuwon", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a model file (TOML); write traces.csv and spikes.csv.
    Run(run::RunArgs),
    /// Reduce every cell's dendrites to equivalent cylinders (Neuron_Reduce); write a model file.
    Reduce(reduce::ReduceArgs),
    /// Grow neurons from a growth spec (TOML) and write them as SWC.
    Grow(grow::GrowArgs),
    /// The showcase: grow a neuron with a spiral axon, simulate an action potential, and
    /// write a voltage plot (PNG) and an animation (GIF).
    Demo(demo::DemoArgs),
    /// Work with NMODL (.mod) files.
    Nmodl {
        #[command(subcommand)]
        command: NmodlCommand,
    },
}

#[derive(Debug, Subcommand)]
enum NmodlCommand {
    /// Parse, analyse and lower each file. Exit 0 when every file lowers, 1 otherwise.
    Check(nmodl_check::CheckArgs),
    /// Run the corpus conformance protocol (shared/nmodl/README.md) for one mechanism and
    /// write the reference's columns and rows as CSV.
    Conform(conform::ConformArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Reduce(args) => reduce::run(&args),
        Command::Grow(args) => grow::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Nmodl {
            command: NmodlCommand::Check(args),
        } => nmodl_check::run(&args),
        Command::Nmodl {
            command: NmodlCommand::Conform(args),
        } => conform::run(&args),
    }
}
