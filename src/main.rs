//! The `vigil` binary: flags (every one also a `VIGIL_...` environment variable), config, and
//! a call into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use vigil::app;
use vigil::config::{Config, LogFormat, DEFAULT_TOML};
use vigil::ingest::replay::Speed;

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Stream-processing risk engine for hazardous-chemical production safety"
)]
struct Cli {
    /// Config file (TOML) over the compiled-in defaults.
    #[arg(long, global = true, env = "VIGIL_CONFIG")]
    config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, env = "VIGIL_LOG_FORMAT")]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Embedded Kafka, a simulated province and the engine, in one process. Runs until Ctrl-C.
    Demo {
        /// Address of the HTTP API.
        #[arg(long, env = "VIGIL_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
        /// Simulated enterprises.
        #[arg(long, env = "VIGIL_ENTERPRISES", default_value_t = 300)]
        enterprises: usize,
        /// Seed of the simulation.
        #[arg(long, env = "VIGIL_SEED", default_value_t = 42)]
        seed: u64,
        /// Event time runs this many times faster than wall time.
        #[arg(long, env = "VIGIL_SPEED", default_value_t = 1.0)]
        speed: f64,
        /// Partitions of every topic of the embedded cluster.
        #[arg(long, env = "VIGIL_PARTITIONS", default_value_t = 4)]
        partitions: i32,
        /// Inject a scenario from the catalogue every this much event time (gas leak, toxic
        /// leak, tank overfill, sensor offline, in turn).
        #[arg(long, env = "VIGIL_SCENARIO_EVERY", default_value = "10m", value_parser = humantime::parse_duration)]
        scenario_every: std::time::Duration,
    },
    /// The production service against real brokers (`[kafka]` in the config).
    Run,
    /// The same pipeline over recorded NDJSON input instead of Kafka; deterministic.
    Replay {
        /// Input file(s) of `{"topic", "key", "value"}` lines, read in order.
        #[arg(
            long = "input",
            env = "VIGIL_INPUT",
            required = true,
            value_delimiter = ','
        )]
        inputs: Vec<PathBuf>,
        /// `max`, or a factor by which event time runs faster than wall time.
        #[arg(long, env = "VIGIL_SPEED", default_value = "max")]
        speed: Speed,
        /// Dead letters, as NDJSON.
        #[arg(long, env = "VIGIL_DLQ_OUT")]
        dlq_out: Option<PathBuf>,
        /// Late records, as NDJSON.
        #[arg(long, env = "VIGIL_LATE_OUT")]
        late_out: Option<PathBuf>,
        /// The end-of-run summary, as JSON.
        #[arg(long, env = "VIGIL_SUMMARY_OUT")]
        summary_out: Option<PathBuf>,
        /// Run the rules in this directory and end with a per-rule report (a backtest).
        #[arg(long, env = "VIGIL_RULES")]
        rules: Option<PathBuf>,
        /// Every rule hit, as NDJSON (`{"at", "rule_id", "enterprise_id", "subject", ...}`).
        #[arg(long, env = "VIGIL_HITS_OUT", requires = "rules")]
        hits_out: Option<PathBuf>,
        /// The warnings (firing, escalated, resolved records), as NDJSON.
        #[arg(long, env = "VIGIL_WARNINGS_OUT", requires = "rules")]
        warnings_out: Option<PathBuf>,
        /// The enterprises' risk records (index, colour, breakdown) whenever one changes, as
        /// NDJSON.
        #[arg(long, env = "VIGIL_RISK_OUT", requires = "rules")]
        risk_out: Option<PathBuf>,
        /// The enterprises' risk records and enforcement facts at the end, as JSON: what
        /// `vigil enforce --snapshot` plans from.
        #[arg(long, env = "VIGIL_SNAPSHOT_OUT", requires = "rules")]
        snapshot_out: Option<PathBuf>,
    },
    /// The day's inspection plan for one county (DOMAIN.md (e)): the mandatory set, the
    /// SELF_CHECK and HOT_WORK quotas, then the RISK pool, with a reason for every task.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["api", "snapshot"])))]
    Enforce {
        /// County (region id).
        #[arg(long, env = "VIGIL_REGION")]
        region: String,
        /// The day planned (local date, YYYY-MM-DD).
        #[arg(long, env = "VIGIL_DATE")]
        date: chrono::NaiveDate,
        /// Visits the county's teams can make that day.
        #[arg(long, env = "VIGIL_CAPACITY")]
        capacity: u64,
        /// Inspector teams; whole parks go to one team.
        #[arg(long, env = "VIGIL_TEAMS", default_value_t = 1)]
        teams: u64,
        /// Seed of the priority-weighted draws (recorded in the plan); by default a keyed
        /// hash of the county and the day (`enforce.seed_key`).
        #[arg(long, env = "VIGIL_SEED")]
        seed: Option<u64>,
        /// Read the snapshot from a running vigil (`http://127.0.0.1:8080`).
        #[arg(long, env = "VIGIL_API")]
        api: Option<String>,
        /// Read the snapshot from a file (`vigil replay --snapshot-out`).
        #[arg(long, env = "VIGIL_SNAPSHOT")]
        snapshot: Option<PathBuf>,
        /// The plan: `.csv`, `.parquet` (tasks) or `.json` (tasks, quota ledger, deficits).
        #[arg(long, env = "VIGIL_OUT")]
        out: Option<PathBuf>,
    },
    /// The simulated province's stream, with scenarios injected: as replay NDJSON to a file
    /// (`--out`), or produced in real time to a Kafka-protocol broker (`--brokers`).
    #[command(group(clap::ArgGroup::new("target").required(true).args(["out", "brokers"])))]
    Sim {
        /// The Tennessee Eastman scenario: this run file (e.g. `../shared/data/tep/d01_te.dat`)
        /// as one enterprise's plant, written to `--out`.
        #[arg(long, env = "VIGIL_TEP", requires_all = ["out", "tep_train"], conflicts_with = "brokers")]
        tep: Option<PathBuf>,
        /// The normal-operation run the TEP alarm limits are learned from (`d00.dat`).
        #[arg(long, env = "VIGIL_TEP_TRAIN", requires = "tep")]
        tep_train: Option<PathBuf>,
        /// TEP's 3-minute samples come this many times faster.
        #[arg(
            long,
            env = "VIGIL_TEP_COMPRESS",
            default_value_t = 1,
            requires = "tep"
        )]
        tep_compress: u32,
        /// The stream (registry, then readings in event-time order).
        #[arg(long, env = "VIGIL_OUT")]
        out: Option<PathBuf>,
        /// Load generator: produce to this broker (keyed by enterprise id) at about `--rate`.
        #[arg(long, env = "VIGIL_BROKERS")]
        brokers: Option<String>,
        /// Load generator: readings per second (sizes the province).
        #[arg(
            long,
            env = "VIGIL_RATE",
            default_value_t = 10_000,
            requires = "brokers"
        )]
        rate: u64,
        /// The ground truth of every injected scenario, one JSON object per line.
        #[arg(long, env = "VIGIL_TRUTH_OUT")]
        truth_out: Option<PathBuf>,
        #[arg(long, env = "VIGIL_SEED", default_value_t = 42)]
        seed: u64,
        #[arg(long, env = "VIGIL_ENTERPRISES", default_value_t = 20)]
        enterprises: usize,
        /// Seconds of event time (`--out`) or of real time (`--brokers`).
        #[arg(long, env = "VIGIL_DURATION", default_value_t = 3600)]
        duration: u64,
        /// Event time of the first reading (RFC 3339).
        #[arg(long, env = "VIGIL_START", default_value = "2026-01-05T00:00:00Z")]
        start: String,
        /// Scenarios to inject (each once, spread over the run): gas-leak, toxic-leak,
        /// tank-overfill, sensor-offline, missing-commitment, over-capacity, uncertified-staff,
        /// hot-work-without-analysis, permit-expired, hot-work-grade-mismatch, supply-imbalance,
        /// resumption-without-self-inspection, flat-line, under-reporting, alarm-flood,
        /// chattering-alarm, gas-analysis-fail, hot-work-concentration,
        /// resumed-without-commitment, undeclared-hot-work, rush-production,
        /// startup-hot-work-not-upgraded, major-hazard-not-declared, work-without-permit,
        /// unanswered-warnings (live only: `vigil demo` answers the others), or all.
        #[arg(long = "scenario", env = "VIGIL_SCENARIO", value_delimiter = ',', value_parser = parse_scenarios)]
        scenarios: Vec<Vec<vigil::sim::Scenario>>,
    },
    /// Learn models of normal operation (PCA, T² and SPE limits) from recorded input, one per
    /// monitored unit (an enterprise, or a group of its indicators) with registry indicators
    /// and readings, written as `monitor_model` registry records.
    Learn {
        /// Recorded input of a normal period (registry and readings), one or more files.
        #[arg(long = "input", required = true)]
        inputs: Vec<PathBuf>,
        /// Where the models go (recorded-input lines of the registry topic).
        #[arg(long)]
        out: PathBuf,
        /// What a monitored unit is: the whole enterprise (`plant`), or a group of its
        /// indicators by the registry's `hazard` source or `equipment` (ungrouped indicators
        /// form the unit `plant`).
        #[arg(long = "units", value_enum, default_value_t = app::learn::UnitsBy::Plant)]
        units_by: app::learn::UnitsBy,
        /// Held-out normal streams: report how often the new models would fire on them.
        #[arg(long = "check")]
        check: Vec<PathBuf>,
        /// Sample period; by default each enterprise's readings' median interval.
        #[arg(long, value_parser = humantime::parse_duration)]
        sample_period: Option<std::time::Duration>,
        /// Confidence of the control limits.
        #[arg(long, default_value_t = 0.99, value_parser = parse_confidence)]
        confidence: f64,
        /// Share of the standardised variance the principal components keep.
        #[arg(long, default_value_t = 0.9, value_parser = parse_share)]
        variance: f64,
        /// `--check`'s warnings fire after this many samples in a row over a limit...
        #[arg(long, default_value_t = app::learn::DEFAULT_CONSECUTIVE, value_parser = clap::value_parser!(u32).range(1..=1000))]
        consecutive: u32,
        /// ...and clear after this many in a row under both.
        #[arg(long, default_value_t = app::learn::DEFAULT_CLEAR_AFTER, value_parser = clap::value_parser!(u32).range(1..=10000))]
        clear_after: u32,
    },
    /// Rule files: check them, list the tables they query.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// A `--scenario` value: a scenario's name, or `all` for the catalogue.
fn parse_scenarios(name: &str) -> Result<Vec<vigil::sim::Scenario>, String> {
    use clap::ValueEnum;
    use vigil::sim::Scenario;
    if name == "all" {
        return Ok(Scenario::ALL.to_vec());
    }
    Scenario::from_str(name, true).map(|s| vec![s])
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Loads, plans and validates every rule file under DIR; non-zero exit on any problem,
    /// each printed as `file:line: reason`.
    Check {
        #[arg(default_value = "queries")]
        dir: PathBuf,
    },
    /// Prints the rule tables and their columns (Markdown).
    Tables,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Prints the compiled-in default config, every setting documented.
    Default,
    /// Loads the config (defaults + --config) and prints the result.
    Show,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vigil: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config {
        command: ConfigCommand::Default,
    } = cli.command
    {
        print!("{DEFAULT_TOML}");
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref()).context("loading the config")?;
    vigil::logging::init(cli.log_format.unwrap_or(config.log.format));
    match cli.command {
        Command::Demo {
            addr,
            enterprises,
            seed,
            speed,
            partitions,
            scenario_every,
        } => {
            let options = app::demo::DemoOptions {
                addr,
                enterprises: enterprises.max(1),
                seed,
                speed,
                partitions,
                scenario_every,
            };
            tokio_main(|shutdown| app::demo::run(config, options, shutdown))
        }
        Command::Sim {
            tep,
            tep_train,
            tep_compress,
            out,
            brokers,
            rate,
            truth_out,
            seed,
            enterprises,
            duration,
            start,
            scenarios: chosen,
        } => {
            if let Some(brokers) = brokers {
                let options = app::loadgen::LoadOptions {
                    brokers,
                    rate,
                    duration: std::time::Duration::from_secs(duration),
                    seed,
                    scenarios: chosen.concat(),
                    properties: Vec::new(),
                };
                return tokio_main(|shutdown| async move {
                    let report = app::loadgen::run(&options, shutdown).await?;
                    println!("{}", serde_json::to_string(&report).unwrap_or_default());
                    Ok(())
                });
            }
            let start = vigil::model::EventTime::parse_rfc3339(&start)
                .ok_or_else(|| anyhow::anyhow!("--start {start} is not an RFC 3339 time"))?;
            let out = out.expect("clap requires --out or --brokers");
            if let (Some(run), Some(train)) = (tep, tep_train) {
                let records = app::sim::run_tep(&app::sim::TepOptions {
                    run,
                    train,
                    out,
                    start,
                    compress: tep_compress,
                })?;
                println!(
                    "{records} records written (TEP plant {})",
                    vigil::sim::tep::ENTERPRISE
                );
                return Ok(());
            }
            let report = app::sim::run(&app::sim::SimOptions {
                out,
                truth_out,
                seed,
                enterprises,
                duration_s: duration,
                start,
                scenarios: chosen.concat(),
            })?;
            println!(
                "{} records written, {} scenarios injected",
                report.records, report.injected
            );
            Ok(())
        }
        Command::Run => {
            tokio_main(|shutdown| async move { app::run::run(&config, shutdown).await })
        }
        Command::Replay {
            inputs,
            speed,
            dlq_out,
            late_out,
            summary_out,
            rules,
            hits_out,
            warnings_out,
            risk_out,
            snapshot_out,
        } => {
            let options = app::replay::ReplayOptions {
                inputs,
                speed: Some(speed),
                dlq_out,
                late_out,
                summary_out,
                rules,
                hits_out,
                warnings_out,
                risk_out,
                snapshot_out,
            };
            let result = app::replay::run(&config, &options)?;
            print!("{}", app::replay::describe(&result.summary));
            if let Some(backtest) = &result.backtest {
                print!("{}", backtest.describe());
            }
            Ok(())
        }
        Command::Enforce {
            region,
            date,
            capacity,
            teams,
            seed,
            api,
            snapshot,
            out,
        } => {
            let source = match (api, snapshot) {
                (Some(url), _) => app::enforce::SnapshotSource::Api(url),
                (None, Some(path)) => app::enforce::SnapshotSource::File(path),
                (None, None) => unreachable!("clap requires one source"),
            };
            let options = app::enforce::EnforceOptions {
                region,
                date,
                capacity,
                teams,
                seed,
                source,
                out,
            };
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let plan = runtime.block_on(app::enforce::run(&config, &options))?;
            print!("{}", app::enforce::describe(&plan));
            Ok(())
        }
        Command::Learn {
            inputs,
            out,
            units_by,
            check,
            sample_period,
            confidence,
            variance,
            consecutive,
            clear_after,
        } => {
            let options = app::learn::LearnOptions {
                inputs,
                out,
                max_line_bytes: vigil::ingest::replay::max_line_bytes(
                    config.ingest.max_message_bytes,
                ),
                units_by,
                check,
                sample_period,
                fit: vigil::monitor::FitOptions {
                    confidence,
                    variance,
                    ..Default::default()
                },
                consecutive: consecutive as usize,
                clear_after: clear_after as usize,
            };
            let report = app::learn::run(&options)?;
            print!("{}", report.describe());
            Ok(())
        }
        Command::Rules {
            command: RulesCommand::Check { dir },
        } => {
            let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
            let report = runtime.block_on(app::rules::check(&config, &dir));
            print!("{}", report.text);
            if report.ok {
                Ok(())
            } else {
                anyhow::bail!("{} rule file(s) cannot run", report.problems)
            }
        }
        Command::Rules {
            command: RulesCommand::Tables,
        } => {
            print!("{}", vigil::rules::tables::markdown());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Show,
        } => {
            print!("{}", toml::to_string_pretty(&config.redacted())?);
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Default,
        } => unreachable!("handled above"),
    }
}

/// A probability strictly between 0.5 and 1.
fn parse_confidence(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p > 0.5 && p < 1.0 => Ok(p),
        _ => Err(format!("{text:?} is not a confidence between 0.5 and 1")),
    }
}

/// A share in (0, 1].
fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 1.0 => Ok(p),
        _ => Err(format!("{text:?} is not a share in (0, 1]")),
    }
}

fn tokio_main<F, Fut>(body: F) -> anyhow::Result<()>
where
    F: FnOnce(tokio_util::sync::CancellationToken) -> Fut,
    Fut: std::future::Future<Output = Result<(), vigil::error::IoError>>,
{
    let runtime = tokio::runtime::Runtime::new().context("starting the runtime")?;
    runtime.block_on(async {
        let shutdown = app::shutdown::on_signal();
        body(shutdown).await.map_err(anyhow::Error::from)
    })
}
