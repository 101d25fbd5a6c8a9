//! Coverage of the guests' decoding code, for the fuzzer's feedback (docs/fuzzing.md,
//! "Coverage feedback").
//!
//! A guest module is rewritten so that each block of the functions that decode (found
//! by their names in the module's name section) marks a byte in a memory of its own,
//! exported as [`crate::host::COVERAGE_EXPORT`]. The host reads that memory when an
//! instance is done (the sites hit, [`crate::host::Invocation::coverage`]). Nothing
//! else in the module changes: the guest computes exactly what it did before.
//!
//! The bodies are edited as bytes (the marks inserted, every original byte kept), so no
//! instruction is decoded and encoded again.

use std::collections::HashSet;

use wasm_encoder::{
    CodeSection, Encode, ExportSection, Instruction, MemArg, MemorySection, MemoryType, RawSection,
};
use wasmparser::{KnownCustom, Name, Operator, Parser, Payload, TypeRef};

use crate::guest_build::export_kind;
use crate::host::COVERAGE_EXPORT;

/// The names (substrings of the name section's function names) of the code that
/// decodes host answers in each SDK's guest: the JSON decoder, the OCI types and the
/// SDK itself. Go names carry their package path with `/`, `-`, `(`, `*` and `)` as
/// `_` (`encoding_json.__decodeState_.object`); Rust names are mangled paths.
pub const DECODING_CODE: [&str; 10] = [
    "encoding_json.",
    "github.com_opencontainers_image_spec",
    "github.com_opencontainers_go_digest",
    "github.com_kubewarden_policy_sdk_go",
    "serde_json",
    "oci_spec",
    "kubewarden_policy_sdk",
    // serde's deserializers: the traits and their impls, and the buffering behind
    // untagged enums (the Rust SDK's OciManifestResponse).
    "serde_core",
    "serde7private2de",
    "serde..private..de",
];

/// At most this many sites (one byte each, in a memory of this many bytes).
const MAX_SITES: u32 = 2 * 65536;

/// An instrumented module.
pub struct Instrumented {
    pub bytes: Vec<u8>,
    /// Functions instrumented, and the sites in them.
    pub functions: usize,
    pub sites: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    #[error("the module cannot be read: {0}")]
    Parse(#[from] wasmparser::BinaryReaderError),
    #[error("the module has no name section: nothing says which functions decode")]
    NoNames,
    #[error("the module defines no memory of its own, or exports nothing")]
    NoMemory,
}

/// Marks every block of the functions whose names contain one of `code`'s substrings.
/// The module is copied section by section; only the memory section (one memory more),
/// the export section (its export) and the bodies of those functions (the marking
/// instructions inserted, every original byte kept) change.
pub fn instrument(wasm: &[u8], code: &[&str]) -> Result<Instrumented, InstrumentError> {
    let layout = Layout::of(wasm)?;
    if layout.defined_memories == 0 {
        return Err(InstrumentError::NoMemory);
    }
    let selected: HashSet<u32> = layout
        .names
        .iter()
        .filter(|(_, name)| code.iter().any(|c| name.contains(c)))
        .map(|(index, _)| *index)
        .collect();
    let mut marker = Marker { memory: layout.imported_memories + layout.defined_memories, sites: 0 };
    let mut module = wasm_encoder::Module::new();
    let (mut exported, mut next_function) = (false, layout.imported_functions);
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        match payload {
            Payload::MemorySection(reader) => {
                let mut memories = MemorySection::new();
                for memory in reader {
                    let m = memory?;
                    memories.memory(MemoryType {
                        minimum: m.initial,
                        maximum: m.maximum,
                        memory64: m.memory64,
                        shared: m.shared,
                        page_size_log2: m.page_size_log2,
                    });
                }
                let pages = u64::from(MAX_SITES.div_ceil(65536));
                memories.memory(MemoryType {
                    minimum: pages,
                    maximum: Some(pages),
                    memory64: false,
                    shared: false,
                    page_size_log2: None,
                });
                module.section(&memories);
            }
            Payload::ExportSection(reader) => {
                let mut exports = ExportSection::new();
                for export in reader {
                    let export = export?;
                    exports.export(export.name, export_kind(export.kind), export.index);
                }
                exports.export(COVERAGE_EXPORT, wasm_encoder::ExportKind::Memory, marker.memory);
                module.section(&exports);
                exported = true;
            }
            Payload::CodeSectionStart { range, .. } => {
                let mut bodies = CodeSection::new();
                let reader = wasmparser::CodeSectionReader::new(wasmparser::BinaryReader::new(
                    &wasm[range.clone()],
                    range.start,
                ))?;
                for body in reader {
                    let body = body?;
                    if selected.contains(&next_function) {
                        bodies.raw(&marker.body(wasm, &body)?);
                    } else {
                        bodies.raw(&wasm[body.range()]);
                    }
                    next_function += 1;
                }
                module.section(&bodies);
            }
            Payload::CodeSectionEntry(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&RawSection { id, data: &wasm[range] });
                }
            }
        }
    }
    if !exported {
        return Err(InstrumentError::NoMemory);
    }
    Ok(Instrumented { bytes: module.finish(), functions: selected.len(), sites: marker.sites })
}

/// What the rewrite needs to know before it starts.
struct Layout {
    imported_functions: u32,
    imported_memories: u32,
    defined_memories: u32,
    names: Vec<(u32, String)>,
}

impl Layout {
    fn of(wasm: &[u8]) -> Result<Layout, InstrumentError> {
        let mut layout =
            Layout { imported_functions: 0, imported_memories: 0, defined_memories: 0, names: Vec::new() };
        let mut named = false;
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        match import?.ty {
                            TypeRef::Func(_) | TypeRef::FuncExact(_) => layout.imported_functions += 1,
                            TypeRef::Memory(_) => layout.imported_memories += 1,
                            _ => {}
                        }
                    }
                }
                Payload::MemorySection(memories) => layout.defined_memories += memories.count(),
                Payload::CustomSection(section) => {
                    if let KnownCustom::Name(names) = section.as_known() {
                        named = true;
                        for name in names {
                            if let Name::Function(map) = name? {
                                for naming in map {
                                    let naming = naming?;
                                    layout.names.push((naming.index, naming.name.to_string()));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if !named {
            return Err(InstrumentError::NoNames);
        }
        Ok(layout)
    }
}

/// Writes the marking instructions and counts the sites.
struct Marker {
    memory: u32,
    sites: u32,
}

impl Marker {
    /// `mem[site] = 1` in the coverage memory; nothing once the sites run out.
    fn mark(&mut self, out: &mut Vec<u8>) {
        if self.sites >= MAX_SITES {
            return;
        }
        Instruction::I32Const(self.sites as i32).encode(out);
        Instruction::I32Const(1).encode(out);
        Instruction::I32Store8(MemArg { offset: 0, align: 0, memory_index: self.memory }).encode(out);
        self.sites += 1;
    }

    /// The body (locals and code) with a mark at its entry and after the opening of
    /// every `block`, `loop`, `if` and `else`.
    fn body(&mut self, wasm: &[u8], body: &wasmparser::FunctionBody<'_>) -> Result<Vec<u8>, InstrumentError> {
        let range = body.range();
        let mut reader = body.get_operators_reader()?;
        let mut out = Vec::with_capacity(range.len() + 64);
        let entry = reader.original_position();
        out.extend_from_slice(&wasm[range.start..entry]);
        self.mark(&mut out);
        let mut copied = entry;
        while !reader.eof() {
            let operator = reader.read()?;
            if matches!(
                operator,
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } | Operator::Else
            ) {
                let end = reader.original_position();
                out.extend_from_slice(&wasm[copied..end]);
                copied = end;
                self.mark(&mut out);
            }
        }
        out.extend_from_slice(&wasm[copied..range.end]);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::{Engine, Instance, Module, Store};

    use super::*;

    const MODULE: &str = r#"(module
      (memory (export "memory") 1)
      (func $serde_json_parse (export "parse") (param i32) (result i32)
        (if (result i32) (local.get 0) (then (i32.const 7)) (else (i32.const 9))))
      (func $other (export "other") (result i32) (i32.const 1)))"#;

    /// Runs `func` of the instrumented module; its result and the sites it marked.
    fn run(instrumented: &Instrumented, func: &str, arg: Option<i32>) -> (i32, Vec<usize>) {
        let engine = Engine::default();
        let module = Module::new(&engine, &instrumented.bytes).unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let result = match arg {
            Some(a) => {
                instance.get_typed_func::<i32, i32>(&mut store, func).unwrap().call(&mut store, a).unwrap()
            }
            None => {
                instance.get_typed_func::<(), i32>(&mut store, func).unwrap().call(&mut store, ()).unwrap()
            }
        };
        let memory = instance.get_memory(&mut store, COVERAGE_EXPORT).unwrap();
        let sites =
            memory.data(&store).iter().enumerate().filter(|(_, b)| **b != 0).map(|(i, _)| i).collect();
        (result, sites)
    }

    #[test]
    fn only_the_decoding_code_is_marked_and_it_computes_the_same() {
        let wasm = wat::parse_str(MODULE).unwrap();
        let instrumented = instrument(&wasm, &DECODING_CODE).unwrap();
        // The entry, the `if` and the `else` of `serde_json_parse`; nothing in `other`.
        assert_eq!((instrumented.functions, instrumented.sites), (1, 3));
        assert_eq!(run(&instrumented, "parse", Some(1)), (7, vec![0, 1]));
        assert_eq!(run(&instrumented, "parse", Some(0)), (9, vec![0, 2]));
        assert_eq!(run(&instrumented, "other", None), (1, vec![]));
    }

    #[test]
    fn a_module_without_names_is_refused() {
        let wasm = wat::parse_str(r#"(module (memory 1) (func (export "f")))"#).unwrap();
        assert!(matches!(instrument(&wasm, &DECODING_CODE), Err(InstrumentError::NoNames)));
    }
}
