//! A small, bounded ELF reader with one job: find `DT_RPATH`/`DT_RUNPATH` in our own binary, for
//! the explaining `--checksetup`. A setuid binary with a run path makes the dynamic loader look
//! for libraries in those directories with root's privileges (absolute entries are honoured even
//! in secure mode), so a writable one is a root shell.
//!
//! Safe Rust only: every read is bounds-checked, every size from the file is capped, and a file
//! that is not what we expect gives an error, never a panic.

/// Program header types and dynamic tags we look at (`elf.h`).
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: u64 = 0;
const DT_STRTAB: u64 = 5;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;

/// Caps on what the file may make us read.
const MAX_PHNUM: usize = 512;
const MAX_DYNAMIC_BYTES: u64 = 64 * 1024;
const MAX_STRING_BYTES: usize = 4096;

/// One run-path entry found: the tag's name and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPath {
    pub tag: &'static str,
    pub value: String,
}

/// How the caller reads bytes: `read(offset, len)` returns up to `len` bytes at `offset`.
pub trait Source {
    fn read(&self, offset: u64, len: usize) -> Option<Vec<u8>>;
}

impl Source for std::fs::File {
    fn read(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; len];
        let mut done = 0;
        while done < len {
            match self.read_at(&mut buf[done..], offset.checked_add(done as u64)?) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
        buf.truncate(done);
        Some(buf)
    }
}

impl Source for [u8] {
    fn read(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        let start = usize::try_from(offset).ok()?;
        let end = start.saturating_add(len).min(self.len());
        self.get(start..end).map(<[u8]>::to_vec)
    }
}

/// Reads fixed-size fields with the file's class and byte order.
struct Layout {
    wide: bool,
    big: bool,
}

impl Layout {
    fn uint(&self, bytes: &[u8], at: usize, size: usize) -> Option<u64> {
        let b = bytes.get(at..at.checked_add(size)?)?;
        let mut v = 0u64;
        for i in 0..size {
            let byte = if self.big { b[i] } else { b[size - 1 - i] };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    }
    fn word(&self, bytes: &[u8], at: usize) -> Option<u64> {
        self.uint(bytes, at, if self.wide { 8 } else { 4 })
    }
}

struct Segment {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

/// The `DT_RPATH`/`DT_RUNPATH` entries of the ELF file behind `src`; empty for a static binary.
pub fn run_paths<S: Source + ?Sized>(src: &S) -> Result<Vec<RunPath>, String> {
    let header = src.read(0, 64).ok_or("cannot read the ELF header")?;
    if header.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF file".into());
    }
    let layout = match (header.get(4), header.get(5)) {
        (Some(1), Some(d @ (1 | 2))) => Layout {
            wide: false,
            big: *d == 2,
        },
        (Some(2), Some(d @ (1 | 2))) => Layout {
            wide: true,
            big: *d == 2,
        },
        _ => return Err("unknown ELF class or byte order".into()),
    };
    let bad = || "malformed ELF header".to_string();
    let (phoff, phentsize, phnum) = if layout.wide {
        (
            layout.uint(&header, 0x20, 8).ok_or_else(bad)?,
            layout.uint(&header, 0x36, 2).ok_or_else(bad)?,
            layout.uint(&header, 0x38, 2).ok_or_else(bad)?,
        )
    } else {
        (
            layout.uint(&header, 0x1c, 4).ok_or_else(bad)?,
            layout.uint(&header, 0x2a, 2).ok_or_else(bad)?,
            layout.uint(&header, 0x2c, 2).ok_or_else(bad)?,
        )
    };
    let (phentsize, phnum) = (phentsize as usize, phnum as usize);
    let min_entry = if layout.wide { 56 } else { 32 };
    if phnum > MAX_PHNUM || (phnum > 0 && phentsize < min_entry) {
        return Err("implausible program header table".into());
    }
    let table = src
        .read(phoff, phentsize * phnum)
        .filter(|t| t.len() == phentsize * phnum)
        .ok_or("cannot read the program headers")?;
    let mut segments = Vec::with_capacity(phnum);
    for i in 0..phnum {
        let e = &table[i * phentsize..(i + 1) * phentsize];
        let field = |wide_at: usize, narrow_at: usize| {
            if layout.wide {
                layout.uint(e, wide_at, 8)
            } else {
                layout.uint(e, narrow_at, 4)
            }
        };
        segments.push(Segment {
            kind: layout.uint(e, 0, 4).ok_or("bad program header")? as u32,
            offset: field(8, 4).ok_or("bad program header")?,
            vaddr: field(16, 8).ok_or("bad program header")?,
            filesz: field(32, 16).ok_or("bad program header")?,
        });
    }
    let Some(dynamic) = segments.iter().find(|s| s.kind == PT_DYNAMIC) else {
        return Ok(Vec::new());
    };
    if dynamic.filesz > MAX_DYNAMIC_BYTES {
        return Err("implausibly large dynamic section".into());
    }
    let entries = src
        .read(dynamic.offset, dynamic.filesz as usize)
        .ok_or("cannot read the dynamic section")?;
    let entry_size = if layout.wide { 16 } else { 8 };
    let mut strtab = None;
    let mut wanted = Vec::new();
    for chunk in entries.chunks_exact(entry_size) {
        let tag = layout.word(chunk, 0).ok_or("bad dynamic entry")?;
        let value = layout
            .word(chunk, entry_size / 2)
            .ok_or("bad dynamic entry")?;
        match tag {
            DT_NULL => break,
            DT_STRTAB => strtab = Some(value),
            DT_RPATH => wanted.push(("RPATH", value)),
            DT_RUNPATH => wanted.push(("RUNPATH", value)),
            _ => {}
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let strtab = strtab.ok_or("run path without a string table")?;
    let strtab_offset = segments
        .iter()
        .filter(|s| s.kind == PT_LOAD)
        .find(|s| strtab >= s.vaddr && strtab - s.vaddr < s.filesz)
        .and_then(|s| s.offset.checked_add(strtab - s.vaddr))
        .ok_or("string table outside every loaded segment")?;
    wanted
        .into_iter()
        .map(|(tag, at)| {
            let bytes = strtab_offset
                .checked_add(at)
                .and_then(|off| src.read(off, MAX_STRING_BYTES))
                .ok_or("cannot read a run path string")?;
            let end = bytes
                .iter()
                .position(|&b| b == 0)
                .ok_or("unterminated run path string")?;
            Ok(RunPath {
                tag,
                value: String::from_utf8_lossy(&bytes[..end]).into_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 little-endian file: one PT_LOAD covering the file at vaddr 0x400000, one
    /// PT_DYNAMIC with STRTAB and the given run-path tags.
    fn elf64(tags: &[(u64, &str)]) -> Vec<u8> {
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        let phoff = 64u64;
        f[0x20..0x28].copy_from_slice(&phoff.to_le_bytes());
        f[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        f[0x38..0x3a].copy_from_slice(&2u16.to_le_bytes());
        let strtab_off = 64 + 2 * 56;
        let mut strings = vec![0u8];
        let mut dyns = Vec::new();
        for (tag, s) in tags {
            dyns.push((*tag, strings.len() as u64));
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
        }
        dyns.push((DT_STRTAB, 0x400000 + strtab_off as u64));
        dyns.push((DT_NULL, 0));
        let dyn_off = strtab_off + strings.len();
        let total = dyn_off + dyns.len() * 16;
        let ph = |kind: u32, off: u64, vaddr: u64, size: u64| {
            let mut p = vec![0u8; 56];
            p[0..4].copy_from_slice(&kind.to_le_bytes());
            p[8..16].copy_from_slice(&off.to_le_bytes());
            p[16..24].copy_from_slice(&vaddr.to_le_bytes());
            p[32..40].copy_from_slice(&size.to_le_bytes());
            p
        };
        f.extend(ph(PT_LOAD, 0, 0x400000, total as u64));
        f.extend(ph(
            PT_DYNAMIC,
            dyn_off as u64,
            0x400000 + dyn_off as u64,
            (dyns.len() * 16) as u64,
        ));
        f.extend(strings);
        for (tag, val) in dyns {
            f.extend(tag.to_le_bytes());
            f.extend(val.to_le_bytes());
        }
        f
    }

    #[test]
    fn finds_rpath_and_runpath() {
        let f = elf64(&[(DT_RPATH, "/opt/lib"), (DT_RUNPATH, "$ORIGIN/../lib")]);
        let found = run_paths(f.as_slice()).unwrap();
        assert_eq!(
            found,
            vec![
                RunPath {
                    tag: "RPATH",
                    value: "/opt/lib".into()
                },
                RunPath {
                    tag: "RUNPATH",
                    value: "$ORIGIN/../lib".into()
                },
            ]
        );
    }

    #[test]
    fn none_when_absent() {
        assert!(run_paths(elf64(&[]).as_slice()).unwrap().is_empty());
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        assert!(run_paths(b"not an elf".as_slice()).is_err());
        let f = elf64(&[(DT_RUNPATH, "/x")]);
        for cut in 0..f.len() {
            let _ = run_paths(&f[..cut]);
        }
        // Corrupt every byte in turn: never a panic.
        for i in 0..f.len() {
            let mut g = f.clone();
            g[i] ^= 0xff;
            let _ = run_paths(g.as_slice());
        }
    }

    #[test]
    fn our_own_test_binary_parses() {
        let exe = std::fs::File::open("/proc/self/exe").unwrap();
        assert!(run_paths(&exe).is_ok());
    }
}
