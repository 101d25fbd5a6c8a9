//! Building the default guests from this repository's sources with the real
//! toolchains: cargo for `guest-rust` (wasm32-wasip1), the Go toolchain for `guest-go`
//! (wasip1/wasm), and TinyGo for the waPC flavour of the Go guest where it exists.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::guest::GuestSpec;

const WASM_TARGET: &str = "wasm32-wasip1";

/// Which SDK a guest is built against: a released version, or a local checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdkSpec {
    Release(String),
    Checkout(PathBuf),
}

impl SdkSpec {
    /// A path that exists is a checkout; anything else is a version (`0.16.0`, `v0.12.0`).
    pub fn parse(spec: &str) -> SdkSpec {
        let path = Path::new(spec);
        if path.is_dir() { SdkSpec::Checkout(path.to_path_buf()) } else { SdkSpec::Release(spec.to_string()) }
    }

    /// What goes into a guest's cache key: the version, or the checkout's place and
    /// content (both are recorded in the module, with its `git describe`).
    fn fingerprint(&self, hash: &mut Sha256) -> Result<(), BuildError> {
        match self {
            SdkSpec::Release(version) => hash.update(version.as_bytes()),
            SdkSpec::Checkout(dir) => {
                let checkout = Checkout::read(dir)?;
                hash.update(checkout.path.as_os_str().as_encoded_bytes());
                hash.update(checkout.content_hash.as_bytes());
                hash.update(checkout.git_describe.unwrap_or_default().as_bytes());
            }
        }
        Ok(())
    }
}

/// What a guest built from a checkout records about it (docs/guest-protocol.md).
struct Checkout {
    path: PathBuf,
    /// SHA-256 of the checkout's files (names and contents), `target/` and `.git/` left out.
    content_hash: String,
    /// `git describe --tags --always --dirty`, when the checkout itself is a git repository.
    git_describe: Option<String>,
    /// The nearest tag, when it is a semver version (`v0.13.1`).
    git_tag: Option<String>,
}

impl Checkout {
    fn read(dir: &Path) -> Result<Checkout, BuildError> {
        let path = absolute(dir)?;
        let mut hash = Sha256::new();
        hash_tree(&path, &mut hash)?;
        // Only the checkout's own history: a copy inside another repository has none.
        let git = |args: &[&str]| -> Option<String> {
            if !path.join(".git").exists() {
                return None;
            }
            let output = Command::new("git").arg("-C").arg(&path).args(args).output().ok()?;
            let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
            (output.status.success() && !text.is_empty()).then_some(text)
        };
        let git_tag = git(&["describe", "--tags", "--abbrev=0"])
            .filter(|tag| crate::guest::semver_of(tag).is_some_and(|v| v.build.is_empty()));
        Ok(Checkout {
            content_hash: crate::host::hex(&hash.finalize()),
            git_describe: git(&["describe", "--tags", "--always", "--dirty"]),
            git_tag,
            path,
        })
    }

    /// The checkout's provenance for a guest's build (environment of the Rust guest's
    /// build script).
    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("KWCONFORM_SDK_CHECKOUT", self.path.display().to_string()),
            ("KWCONFORM_SDK_CONTENT_HASH", self.content_hash.clone()),
        ];
        env.extend(self.git_describe.clone().map(|d| ("KWCONFORM_SDK_GIT_DESCRIBE", d)));
        env
    }
}

/// A guest-cache lookup: the cached module, or the key and place to build it to.
enum Cache {
    Hit(PathBuf),
    Miss { key: String, output: PathBuf },
}

/// The kwconform checkout: where guest sources live and where built guests go.
#[derive(Clone, Debug)]
pub struct Project {
    pub root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("failed to start `{command}` (is it installed and on PATH?)")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed with {status}")]
    Failed { command: String, status: std::process::ExitStatus },
    #[error("failed to read the guest sources in {}", dir.display())]
    Sources {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Project {
    /// The checkout this binary was built from.
    pub fn this_checkout() -> Project {
        let runner = Path::new(env!("CARGO_MANIFEST_DIR"));
        Project { root: runner.parent().unwrap_or(runner).to_path_buf() }
    }

    pub fn cases_dir(&self) -> PathBuf {
        self.root.join("cases")
    }

    pub fn reports_dir(&self) -> PathBuf {
        self.root.join("reports").join("latest")
    }

    /// Where compiled guest modules are cached.
    pub fn module_cache_dir(&self) -> PathBuf {
        self.root.join("target").join("kwconform-cache")
    }

    fn guests_dir(&self) -> PathBuf {
        self.root.join("target").join("guests")
    }

    pub fn rust_guest_path(&self) -> PathBuf {
        self.guests_dir().join(WASM_TARGET).join("release").join("kwconform_guest_rust.wasm")
    }

    pub fn go_guest_path(&self) -> PathBuf {
        self.guests_dir().join("go").join("guest-go.wasm")
    }

    /// The `go-wapc` flavour: the same Go guest and SDK over waPC (a c-shared reactor).
    pub fn go_wapc_guest_path(&self) -> PathBuf {
        self.guests_dir().join("go").join("guest-go-wapc.wasm")
    }

    /// The default guests of a run, in order: `rust` is the reference.
    pub fn default_guests(&self) -> Vec<GuestSpec> {
        vec![
            GuestSpec { name: "rust".into(), path: self.rust_guest_path() },
            GuestSpec { name: "go".into(), path: self.go_guest_path() },
        ]
    }

    /// Builds every default guest that is missing or stale; returns their specs.
    pub fn build_default_guests(&self, log: &mut dyn Write) -> Result<Vec<GuestSpec>, BuildError> {
        self.build_rust_guest(log)?;
        self.build_go_guest(log)?;
        Ok(self.default_guests())
    }

    /// `cargo build --release --target wasm32-wasip1 -p kwconform-guest-rust`, adding the
    /// target with rustup first when it is missing. Skipped when the module was built from
    /// the same guest sources, workspace manifest, lock file, flags and toolchain (asking
    /// cargo takes ~170 ms, more than the rest of a warm start).
    pub fn build_rust_guest(&self, log: &mut dyn Write) -> Result<PathBuf, BuildError> {
        let output = self.rust_guest_path();
        let stamp = self.rust_guest_key()?;
        if up_to_date(&output, &stamp) {
            let _ = writeln!(log, "kwconform: the rust guest is up to date ({})", output.display());
            return Ok(output);
        }
        if !self.wasm_target_installed() {
            let _ =
                writeln!(log, "kwconform: adding the {WASM_TARGET} target (rustup target add {WASM_TARGET})");
            run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
        }
        let _ = writeln!(
            log,
            "kwconform: building the rust guest (cargo build --release --target {WASM_TARGET})"
        );
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        run(Command::new(cargo)
            .current_dir(&self.root)
            .args([
                "build",
                "--release",
                "--locked",
                "--target",
                WASM_TARGET,
                "-p",
                "kwconform-guest-rust",
                "--target-dir",
            ])
            .arg(self.guests_dir()))?;
        write_stamp(&output, &stamp)?;
        Ok(output)
    }

    /// What the default Rust guest's build depends on, besides the registry (`--locked`).
    fn rust_guest_key(&self) -> Result<String, BuildError> {
        let mut hash = Sha256::new();
        hash.update(cache_key("rust", &self.root.join("guest-rust"), None, &["rustc", "-vV"])?.as_bytes());
        for file in ["Cargo.toml", "Cargo.lock"] {
            let path = self.root.join(file);
            hash.update(std::fs::read(&path).map_err(|source| BuildError::Sources { dir: path, source })?);
        }
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS"] {
            hash.update(std::env::var_os(var).unwrap_or_default().as_encoded_bytes());
            hash.update([0]);
        }
        Ok(crate::host::hex(&hash.finalize())[..16].to_string())
    }

    fn wasm_target_installed(&self) -> bool {
        let output =
            Command::new("rustc").args(["--print", "target-libdir", "--target", WASM_TARGET]).output();
        match output {
            Ok(o) if o.status.success() => Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_dir(),
            _ => false,
        }
    }

    /// `go build` with `GOOS=wasip1 GOARCH=wasm`, after `go mod download`. Skipped when
    /// the module was built from the same sources with the same Go toolchain.
    pub fn build_go_guest(&self, log: &mut dyn Write) -> Result<PathBuf, BuildError> {
        self.build_go_flavour(log, "go", &[], &self.go_guest_path())
    }

    /// The `go-wapc` flavour: `go build -tags gowapc -buildmode=c-shared`, with the Go
    /// runtime's initialiser exported as `_start` too: waPC hosts (the `wapc` crate,
    /// Kubewarden's host) start a module with `_start` and never call `_initialize`.
    pub fn build_go_wapc_guest(&self, log: &mut dyn Write) -> Result<PathBuf, BuildError> {
        let output = self.go_wapc_guest_path();
        let fresh = self.build_go_flavour(
            log,
            "go-wapc (with _start)",
            &["-tags", "gowapc", "-buildmode=c-shared"],
            &output,
        )?;
        let bytes =
            std::fs::read(&fresh).map_err(|source| BuildError::Sources { dir: fresh.clone(), source })?;
        if let Some(aliased) = alias_export(&bytes, "_initialize", "_start").map_err(|message| {
            BuildError::Sources { dir: fresh.clone(), source: std::io::Error::other(message) }
        })? {
            crate::fs::write_atomically(&output, &aliased)
                .map_err(|e| BuildError::Sources { dir: output.clone(), source: e.source })?;
        }
        Ok(output)
    }

    fn build_go_flavour(
        &self,
        log: &mut dyn Write,
        name: &str,
        flags: &[&str],
        output: &Path,
    ) -> Result<PathBuf, BuildError> {
        let source = self.root.join("guest-go");
        let stamp = cache_key(name, &source, None, &["go", "version"])?;
        if up_to_date(output, &stamp) {
            let _ = writeln!(log, "kwconform: the {name} guest is up to date ({})", output.display());
            return Ok(output.to_path_buf());
        }
        let _ = writeln!(log, "kwconform: downloading the {name} guest's modules (go mod download)");
        run(Command::new("go").current_dir(&source).args(["mod", "download"]))?;
        let _ = writeln!(
            log,
            "kwconform: building the {name} guest (GOOS=wasip1 GOARCH=wasm go build {})",
            flags.join(" ")
        );
        run(Command::new("go")
            .current_dir(&source)
            .env("GOOS", "wasip1")
            .env("GOARCH", "wasm")
            .arg("build")
            .args(flags)
            .args(["-trimpath", "-mod=readonly", "-o"])
            .arg(output)
            .arg("."))?;
        write_stamp(output, &stamp)?;
        Ok(output.to_path_buf())
    }

    /// The Rust guest built against `sdk`, in a build copy (the committed manifests are
    /// never edited), cached by the guest sources, the SDK and the toolchain: a second
    /// build of the same thing is instant. oci-spec is pinned to the release the SDK
    /// resolves to, since the guest names its types.
    pub fn build_rust_guest_for(&self, sdk: &SdkSpec, log: &mut dyn Write) -> Result<PathBuf, BuildError> {
        let source = self.root.join("guest-rust");
        let (key, output) = match self.guest_cache("rust", &source, sdk, &["rustc", "--version"], log)? {
            Cache::Hit(output) => return Ok(output),
            Cache::Miss { key, output } => (key, output),
        };
        if !self.wasm_target_installed() {
            run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
        }
        let copy = self.root.join("target").join("guest-builds").join(format!("rust-{key}"));
        copy_sources(&source, &copy, &|p| p.starts_with("src") || p.ends_with("build.rs"))?;
        let (sdk_dep, provenance) = match sdk {
            SdkSpec::Release(v) => (format!("version = \"={}\"", v.trim_start_matches('v')), Vec::new()),
            SdkSpec::Checkout(dir) => {
                let checkout = Checkout::read(dir)?;
                (format!("path = {:?}", checkout.path), checkout.env())
            }
        };
        // Every build shares the default guest's target directory, so the dependencies
        // that resolve alike (k8s-openapi, serde, oci-spec...) compile once; the library
        // is named by the key, so two builds never write the same module file.
        let lib = format!("kwconform_guest_rust_{key}");
        let manifest = |oci_spec: &str| {
            format!(
                "[package]\nname = \"kwconform-guest-rust\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [lib]\nname = \"{lib}\"\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\
                 kubewarden-policy-sdk = {{ {sdk_dep}, default-features = false, features = [\"cluster-context\"] }}\n\
                 wapc-guest = \"1\"\nserde = \"1\"\nserde_json = \"1\"\nbase64 = \"0.22\"\n{oci_spec}\n\
                 [workspace]\n\n[profile.release]\nopt-level = \"s\"\nlto = true\n"
            )
        };
        let write = |text: String| {
            std::fs::write(copy.join("Cargo.toml"), text)
                .map_err(|e| BuildError::Sources { dir: copy.clone(), source: e })
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        write(manifest(String::new().as_str()))?;
        let _ = writeln!(log, "kwconform: resolving the rust guest against {sdk:?}");
        run(Command::new(&cargo).current_dir(&copy).arg("generate-lockfile"))?;
        let lock = std::fs::read_to_string(copy.join("Cargo.lock"))
            .map_err(|e| BuildError::Sources { dir: copy.clone(), source: e })?;
        let oci_spec = locked_version(&lock, "oci-spec").unwrap_or_else(|| "0.10".into());
        // The guest names oci-spec's types, and k8s-openapi needs a Kubernetes version picked:
        // both pinned to the releases this SDK resolves to.
        let k8s_openapi = locked_version(&lock, "k8s-openapi").unwrap_or_else(|| "0.28".into());
        write(manifest(&format!(
            "oci-spec = {{ version = \"={oci_spec}\", default-features = false, features = [\"image\"] }}\n\
             k8s-openapi = {{ version = \"={k8s_openapi}\", default-features = false, features = [\"v1_33\"] }}"
        )))?;
        let _ = writeln!(log, "kwconform: building the rust guest against {sdk:?} (oci-spec {oci_spec})");
        run(Command::new(&cargo)
            .current_dir(&copy)
            .envs(provenance)
            .args(["build", "--release", "--target", WASM_TARGET, "--target-dir"])
            .arg(self.guests_dir()))?;
        let built = self.guests_dir().join(WASM_TARGET).join("release").join(format!("{lib}.wasm"));
        install(&built, &output)?;
        // The module is cached; the build copy and its module file are not kept.
        let _ = std::fs::remove_file(&built);
        let _ = std::fs::remove_dir_all(&copy);
        Ok(output)
    }

    /// The Go guest built against `sdk` (`go mod edit -require` or `-replace` in a build
    /// copy), cached like [`Project::build_rust_guest_for`].
    pub fn build_go_guest_for(&self, sdk: &SdkSpec, log: &mut dyn Write) -> Result<PathBuf, BuildError> {
        let source = self.root.join("guest-go");
        let (key, output) = match self.guest_cache("go", &source, sdk, &["go", "version"], log)? {
            Cache::Hit(output) => return Ok(output),
            Cache::Miss { key, output } => (key, output),
        };
        let copy = self.root.join("target").join("guest-builds").join(format!("go-{key}"));
        copy_sources(&source, &copy, &|p| {
            p.extension().is_some_and(|x| x == "go") || p.ends_with("go.mod") || p.ends_with("go.sum")
        })?;
        const MODULE: &str = "github.com/kubewarden/policy-sdk-go";
        // A checkout replaces the module; its version is its nearest git tag, or else the
        // version the guest's go.mod requires.
        // The SDK's version decides which can_i request the guest builds (below).
        let (edits, ldflags, version) = match sdk {
            SdkSpec::Release(v) => (vec![format!("-require={MODULE}@{v}")], String::new(), Some(v.clone())),
            SdkSpec::Checkout(dir) => {
                let checkout = Checkout::read(dir)?;
                let mut edits = vec![format!("-replace={MODULE}={}", checkout.path.display())];
                if let Some(tag) = &checkout.git_tag {
                    edits.push(format!("-require={MODULE}@v{}", tag.trim_start_matches('v')));
                }
                let mut ldflags = format!("-X main.sdkContentHash={}", checkout.content_hash);
                if let Some(describe) = &checkout.git_describe {
                    ldflags.push_str(&format!(" -X main.sdkGitDescribe={describe}"));
                }
                (edits, ldflags, checkout.git_tag)
            }
        };
        let _ = writeln!(log, "kwconform: building the go guest against {sdk:?}");
        run(Command::new("go").current_dir(&copy).args(["mod", "edit"]).args(&edits))?;
        run(Command::new("go").current_dir(&copy).args(["mod", "tidy"]))?;
        // Releases before v0.13 take other Kubernetes requests (guest-go/kubernetes_v0_12.go).
        let before_v0_13 = version
            .and_then(|v| crate::guest::semver_of(&v))
            .is_some_and(|v| v < semver::Version::new(0, 13, 0));
        let tags = if before_v0_13 { "-tags=sdk_before_v0_13" } else { "-tags=" };
        run(Command::new("go").current_dir(&copy).env("GOOS", "wasip1").env("GOARCH", "wasm").args([
            "build",
            "-trimpath",
            tags,
            &format!("-ldflags={ldflags}"),
            "-o",
            "guest-go.wasm",
            ".",
        ]))?;
        install(&copy.join("guest-go.wasm"), &output)?;
        let _ = std::fs::remove_dir_all(&copy);
        Ok(output)
    }

    /// Looks a guest built against `sdk` up in the content-addressed cache.
    fn guest_cache(
        &self,
        flavour: &str,
        source: &Path,
        sdk: &SdkSpec,
        toolchain: &[&str],
        log: &mut dyn Write,
    ) -> Result<Cache, BuildError> {
        let key = cache_key(flavour, source, Some(sdk), toolchain)?;
        let output = self.root.join("target").join("guest-cache").join(format!("{flavour}-{key}.wasm"));
        if output.is_file() {
            let _ =
                writeln!(log, "kwconform: the {flavour} guest for {sdk:?} is cached ({})", output.display());
            return Ok(Cache::Hit(output));
        }
        Ok(Cache::Miss { key, output })
    }

    /// The TinyGo (waPC) flavour of the Go guest needs a `tinygo` binary; without one it
    /// is skipped and `None` returned, and the log says so.
    pub fn build_tinygo_guest(&self, log: &mut dyn Write) -> Result<Option<PathBuf>, BuildError> {
        let found =
            Command::new("tinygo").arg("version").stdout(Stdio::null()).stderr(Stdio::null()).status();
        if !found.is_ok_and(|s| s.success()) {
            let _ = writeln!(
                log,
                "kwconform: skipped the tinygo (waPC) flavour of the go guest: no `tinygo` on PATH"
            );
            return Ok(None);
        }
        let output = self.guests_dir().join("go").join("guest-go-tinygo.wasm");
        let _ = writeln!(log, "kwconform: building the tinygo guest (tinygo build -target=wasi)");
        run(Command::new("tinygo")
            .current_dir(self.root.join("guest-go"))
            .args(["build", "-target=wasi", "-no-debug", "-o"])
            .arg(&output)
            .arg("."))?;
        Ok(Some(output))
    }
}

/// Runs a build command; its output goes to our stderr so the user sees progress, and
/// never to our stdout.
fn run(command: &mut Command) -> Result<(), BuildError> {
    let shown = format!("{command:?}");
    let status = command
        .stdin(Stdio::null())
        .stdout(std::io::stderr())
        .stderr(std::io::stderr())
        .status()
        .map_err(|source| BuildError::Spawn { command: shown.clone(), source })?;
    if status.success() { Ok(()) } else { Err(BuildError::Failed { command: shown, status }) }
}

/// A default guest's stamp, beside its module: the key it was built from.
fn stamp_path(output: &Path) -> PathBuf {
    output.with_extension("wasm.stamp")
}

/// The module exists and was built from `stamp`.
fn up_to_date(output: &Path, stamp: &str) -> bool {
    output.is_file() && std::fs::read_to_string(stamp_path(output)).is_ok_and(|s| s == stamp)
}

fn write_stamp(output: &Path, stamp: &str) -> Result<(), BuildError> {
    let path = stamp_path(output);
    std::fs::write(&path, stamp).map_err(|source| BuildError::Sources { dir: path, source })
}

/// A content key: the guest's sources, the SDK spec (none: the pinned one) and the
/// toolchain's version.
fn cache_key(
    flavour: &str,
    source: &Path,
    sdk: Option<&SdkSpec>,
    toolchain: &[&str],
) -> Result<String, BuildError> {
    let mut hash = Sha256::new();
    hash.update(flavour.as_bytes());
    hash_tree(source, &mut hash)?;
    if let Some(sdk) = sdk {
        sdk.fingerprint(&mut hash)?;
    }
    let version = Command::new(toolchain[0])
        .args(&toolchain[1..])
        .output()
        .map_err(|source| BuildError::Spawn { command: toolchain.join(" "), source })?;
    hash.update(&version.stdout);
    Ok(crate::host::hex(&hash.finalize())[..16].to_string())
}

/// Hashes every file under `dir` (names and contents, sorted), skipping build output
/// and version control.
fn hash_tree(dir: &Path, hash: &mut Sha256) -> Result<(), BuildError> {
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !matches!(e.file_name().to_str(), Some("target" | ".git")));
    for entry in walk {
        let entry = entry.map_err(|e| BuildError::Sources { dir: dir.to_path_buf(), source: e.into() })?;
        if entry.file_type().is_file() {
            hash.update(
                entry.path().strip_prefix(dir).unwrap_or(entry.path()).as_os_str().as_encoded_bytes(),
            );
            hash.update(
                std::fs::read(entry.path())
                    .map_err(|source| BuildError::Sources { dir: dir.to_path_buf(), source })?,
            );
        }
    }
    Ok(())
}

/// Copies the files of `source` that `keep` selects (by relative path) into `copy`.
fn copy_sources(source: &Path, copy: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<(), BuildError> {
    let error = |e: std::io::Error| BuildError::Sources { dir: copy.to_path_buf(), source: e };
    for entry in walkdir::WalkDir::new(source).into_iter().filter_map(Result::ok) {
        let relative = entry.path().strip_prefix(source).unwrap_or(entry.path());
        if entry.file_type().is_file() && keep(relative) {
            let target = copy.join(relative);
            std::fs::create_dir_all(target.parent().unwrap_or(copy)).map_err(error)?;
            std::fs::copy(entry.path(), &target).map_err(error)?;
        }
    }
    Ok(())
}

fn absolute(dir: &Path) -> Result<PathBuf, BuildError> {
    std::fs::canonicalize(dir).map_err(|source| BuildError::Sources { dir: dir.to_path_buf(), source })
}

/// Moves a built module into the cache atomically.
fn install(built: &Path, output: &Path) -> Result<(), BuildError> {
    let bytes =
        std::fs::read(built).map_err(|source| BuildError::Sources { dir: built.to_path_buf(), source })?;
    crate::fs::write_atomically(output, &bytes)
        .map_err(|e| BuildError::Sources { dir: output.to_path_buf(), source: e.source })
}

/// A module that also exports `existing`'s function as `alias`; `None` when it already
/// exports `alias` or does not export `existing`. Every other section is kept as it is.
fn alias_export(bytes: &[u8], existing: &str, alias: &str) -> Result<Option<Vec<u8>>, String> {
    use wasm_encoder::{ExportKind, ExportSection, RawSection};
    use wasmparser::{Parser, Payload};
    let mut module = wasm_encoder::Module::new();
    let mut aliased = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| e.to_string())?;
        let Some((id, range)) = payload.as_section() else { continue };
        let Payload::ExportSection(reader) = payload else {
            module.section(&RawSection { id, data: &bytes[range] });
            continue;
        };
        let exports: Vec<_> = reader.into_iter().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
        if exports.iter().any(|e| e.name == alias) {
            return Ok(None);
        }
        let mut section = ExportSection::new();
        for export in &exports {
            let kind = export_kind(export.kind);
            section.export(export.name, kind, export.index);
            if export.name == existing && kind == ExportKind::Func {
                section.export(alias, kind, export.index);
                aliased = true;
            }
        }
        module.section(&section);
    }
    Ok(aliased.then(|| module.finish()))
}

/// wasmparser's kind of export as wasm-encoder's.
pub(crate) fn export_kind(kind: wasmparser::ExternalKind) -> wasm_encoder::ExportKind {
    use wasm_encoder::ExportKind;
    use wasmparser::ExternalKind;
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => ExportKind::Func,
        ExternalKind::Table => ExportKind::Table,
        ExternalKind::Memory => ExportKind::Memory,
        ExternalKind::Global => ExportKind::Global,
        ExternalKind::Tag => ExportKind::Tag,
    }
}

/// The version a lockfile resolved a package to.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    lock.split("[[package]]")
        .find(|entry| entry.contains(&format!("name = \"{package}\"")))?
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .map(String::from)
}
