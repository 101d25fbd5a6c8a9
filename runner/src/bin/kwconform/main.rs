//! The `kwconform` command line; the work is done by the `kwconform` library.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
