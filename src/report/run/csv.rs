//! replicates.csv and patients.csv (RFC 4180 via the `csv` crate, so a header such as
//! `fh(0,1).z` is quoted when needed). Floats use Rust's shortest round-trip form, NaN is `NaN`.

use std::io::{self, Write};

use crate::engine::AnalysedPatient;
use crate::report::float;
use crate::scenario::Scenario;

fn io_err(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

/// Streams replicates.csv rows: `replicate`, then the layout's columns.
pub struct ReplicatesWriter<W: Write> {
    w: csv::Writer<W>,
    record: Vec<String>,
}

impl<W: Write> ReplicatesWriter<W> {
    pub fn new(out: W, columns: &[String]) -> io::Result<Self> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec!["replicate".to_string()];
        header.extend(columns.iter().cloned());
        w.write_record(&header).map_err(io_err)?;
        Ok(ReplicatesWriter { w, record: Vec::new() })
    }

    pub fn row(&mut self, replicate: u64, values: &[f64]) -> io::Result<()> {
        self.record.clear();
        self.record.push(replicate.to_string());
        self.record.extend(values.iter().map(|&x| float(x)));
        self.w.write_record(&self.record).map_err(io_err)
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// The destination, flushed (replicates.csv held in memory for a binding).
    pub fn into_inner(self) -> io::Result<W> {
        self.w.into_inner().map_err(|e| e.into_error())
    }
}

/// Streams patients.csv rows as the command produces them: `replicate`, `arm`, `entry`, then
/// `<endpoint>.time` and `<endpoint>.event` per endpoint, for the analysed patients (entered by
/// the cut, allocated).
pub struct PatientsWriter<'a, W: Write> {
    w: csv::Writer<W>,
    scenario: &'a Scenario,
    record: Vec<String>,
}

impl<'a, W: Write> PatientsWriter<'a, W> {
    pub fn new(out: W, scenario: &'a Scenario) -> io::Result<Self> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec!["replicate".to_string(), "arm".into(), "entry".into()];
        for e in &scenario.endpoints {
            header.push(format!("{}.time", e.name));
            header.push(format!("{}.event", e.name));
        }
        w.write_record(&header).map_err(io_err)?;
        Ok(PatientsWriter { w, scenario, record: Vec::new() })
    }

    pub fn row(&mut self, p: &AnalysedPatient) -> io::Result<()> {
        let rec = &mut self.record;
        rec.clear();
        rec.push(p.replicate.to_string());
        rec.push(self.scenario.arms[p.arm].name.clone());
        rec.push(float(p.entry));
        for &(time, event) in p.outcomes {
            rec.push(float(time));
            rec.push(if event { "1".into() } else { "0".into() });
        }
        self.w.write_record(&*rec).map_err(io_err)
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_and_headers_are_quoted() {
        for x in [0.1, 1.0 / 3.0, 1e-300, 123456.789, -2.5e-8] {
            assert_eq!(float(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(float(f64::NAN), "NaN");
        let mut buf = Vec::new();
        let mut w = ReplicatesWriter::new(&mut buf, &["fh(0,1).z".to_string()]).unwrap();
        w.row(0, &[f64::NAN]).unwrap();
        w.finish().unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "replicate,\"fh(0,1).z\"\n0,NaN\n");
    }
}
