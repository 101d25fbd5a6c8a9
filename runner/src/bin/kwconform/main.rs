//! The `kwconform` command line; the work is done by the `kwconform` library.

mod cli;
mod cmd_corpus;
mod cmd_fuzz;
mod cmd_repro;
mod cmd_run;

fn main() {
    std::process::exit(cli::main());
}
