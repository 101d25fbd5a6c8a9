//! Bounds-checked access to a guest's linear memory for host functions.
//!
//! A guest that passes a bad pointer or length gets a trap for that call, never a
//! panic of the runner. Length 0 is an empty slice whatever the pointer (Go passes
//! arbitrary pointers with empty slices).

use wasmtime::{Caller, Extern, Memory};

fn memory<T>(caller: &mut Caller<'_, T>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => wasmtime::bail!("guest exports no linear memory named \"memory\""),
    }
}

/// Copies `len` bytes at `ptr` out of the guest.
pub fn read<T>(caller: &mut Caller<'_, T>, ptr: i32, len: i32) -> wasmtime::Result<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let memory = memory(caller)?;
    let data = memory.data(&caller);
    let range = range(ptr, len as u32 as usize, data.len())?;
    Ok(data[range].to_vec())
}

/// Like [`read`], as UTF-8 text.
pub fn read_string<T>(caller: &mut Caller<'_, T>, ptr: i32, len: i32) -> wasmtime::Result<String> {
    String::from_utf8(read(caller, ptr, len)?)
        .map_err(|e| wasmtime::format_err!("guest passed a string that is not UTF-8: {e}"))
}

/// Copies `bytes` into the guest at `ptr`.
pub fn write<T>(caller: &mut Caller<'_, T>, ptr: i32, bytes: &[u8]) -> wasmtime::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    let memory = memory(caller)?;
    let data = memory.data_mut(caller);
    let range = range(ptr, bytes.len(), data.len())?;
    data[range].copy_from_slice(bytes);
    Ok(())
}

fn range(ptr: i32, len: usize, size: usize) -> wasmtime::Result<std::ops::Range<usize>> {
    // wasm32 pointers and lengths are unsigned 32-bit values carried in i32s.
    let start = ptr as u32 as usize;
    let end = start.saturating_add(len);
    if end > size {
        wasmtime::bail!("guest passed an out-of-bounds buffer: {start}..{end} in {size} bytes of memory");
    }
    Ok(start..end)
}
