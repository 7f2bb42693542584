//! `trialsim serve`: loads and checks the starting scenario (a bad one is refused before the
//! server starts, like any command's), binds, prints the URL with its token, serves.

use std::io::Write;
use std::path::PathBuf;

use crate::explorer::{Config, Explorer};
use crate::report::html::file_name;

use super::Error;

pub struct ServeArgs {
    pub scenario: Option<PathBuf>,
    pub port: Option<u16>,
    pub host: Option<String>,
    pub open: bool,
    pub threads: Option<usize>,
}

pub fn command(req: ServeArgs) -> Result<(), Error> {
    super::check_counts(None, req.threads)?;
    let scenario = match &req.scenario {
        Some(p) => Some((file_name(&p.to_string_lossy()), super::load(p)?.text)),
        None => None,
    };
    let host = req.host.clone();
    let config = Config { scenario, port: req.port, host: req.host, threads: req.threads, token: None };
    let explorer = Explorer::bind(config).map_err(|e| match e {
        crate::explorer::ServeError::Host(_) => Error::Argument(e.to_string()),
        e => Error::failure(anyhow::Error::new(e)),
    })?;
    if let Some(h) = &host {
        let _ = writeln!(
            std::io::stderr(),
            "warning: listening on {h}, not only on this machine's loopback: anyone who can reach it and \
             holds the token can run simulations here. Browsers must use the address {h} (or \
             localhost on this machine): other names are refused, against DNS rebinding"
        );
    }
    let url = explorer.url();
    // Written without println!: a closed stdout (a launcher that read the URL and went away)
    // must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "trialsim explorer: {url}");
    let _ = writeln!(out, "(the token in this URL is the only key; Ctrl-C stops the server)");
    let _ = out.flush();
    if req.open
        && let Err(e) = open::that_detached(&url)
    {
        let _ = writeln!(std::io::stderr(), "warning: could not open a browser ({e}); open the URL above");
    }
    explorer.serve().map_err(|e| Error::failure(anyhow::Error::new(e)))
}
