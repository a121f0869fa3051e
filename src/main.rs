//! The `tsunagu` binary: a thin CLI over the library.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    tsunagu::cli::main()
}
