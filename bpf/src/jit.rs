//! libpcap's classic BPF translated to eBPF, run as the programs' own code instead of by the
//! interpreter (docs/ARCHITECTURE.md, "The filter expression in the kernel").
//!
//! Each program that filters keeps a place for the translation (`PTCAP_JIT_PLACE` in
//! capture.bpf.c): a marker, `r0 = PTCAP_JIT_MAGIC`, five moves that say which registers the
//! compiler gave the context and the frame (a `struct ptcap_jit_frame`), where the packet's
//! buffer is and how much it can hold, then `PTCAP_JIT_INSNS` no-op jumps. Before load,
//! [`splice`] overwrites the marker and the jumps with the translated filters and pads the rest,
//! keeping the program's length, so libbpf's relocation records and the BTF line records stay
//! valid.
//!
//! The code follows libpcap's `bpf_filter`: A and X are 32-bit (r6, r7), a load beyond the
//! packet's length rejects, division by zero rejects, shifts by 32 or more give 0, running off
//! the end rejects. Loads come from the buffer (the view's first bytes, which the program copied
//! there: `min(len, head)` of them for tc, the drop's copy for the drop program) and, beyond it,
//! from `bpf_skb_load_bytes` on the context (tc), with the re-inserted VLAN tag's shift.

use crate::filter::CbpfInsn;

/// What a translated load or jump names before its place is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    /// Instruction `pc` of filter number `filter` (the `filters` index).
    Pc { filter: usize, pc: usize },
    /// A local label.
    Local(usize),
    /// The verdict 0.
    Reject,
    /// The end of the translated code (the padding follows).
    Exit,
    /// The first instruction after the place (the compiler's code).
    End,
}

/// One eBPF instruction; `target` replaces `off` for jumps.
#[derive(Clone, Copy, Debug)]
struct Ins {
    code: u8,
    dst: u8,
    src: u8,
    off: i16,
    imm: i32,
    target: Option<Label>,
}

// eBPF opcode fields (linux/bpf.h, linux/bpf_common.h).
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const ALU: u8 = 0x04;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const ALU64: u8 = 0x07;
const MEM: u8 = 0x60;
const SZ_W: u8 = 0x00;
const SZ_H: u8 = 0x08;
const SZ_B: u8 = 0x10;
const K: u8 = 0x00;
const X: u8 = 0x08;
const OP_ADD: u8 = 0x00;
const OP_SUB: u8 = 0x10;
const OP_MUL: u8 = 0x20;
const OP_DIV: u8 = 0x30;
const OP_OR: u8 = 0x40;
const OP_AND: u8 = 0x50;
const OP_LSH: u8 = 0x60;
const OP_RSH: u8 = 0x70;
const OP_NEG: u8 = 0x80;
const OP_MOD: u8 = 0x90;
const OP_XOR: u8 = 0xa0;
const OP_MOV: u8 = 0xb0;
const OP_END: u8 = 0xd0;
const TO_BE: u8 = 0x08;
const J_JA: u8 = 0x00;
const J_EQ: u8 = 0x10;
const J_GT: u8 = 0x20;
const J_GE: u8 = 0x30;
const J_SET: u8 = 0x40;
const J_NE: u8 = 0x50;
const J_LT: u8 = 0xa0;
const J_LE: u8 = 0xb0;
const J_CALL: u8 = 0x80;
/// BPF_FUNC_skb_load_bytes.
const HELPER_SKB_LOAD_BYTES: i32 = 26;

/// The cBPF machine's registers.
const RA: u8 = 6;
const RX: u8 = 7;

// struct ptcap_jit_frame (events.h).
const F_LEN: i16 = 0;
const F_HEAD: i16 = 4;
const F_SLOT: i16 = 8;
const F_RET: i16 = 12;
const F_SHIFT: i16 = 16;
const F_MEM: i16 = 24;
const F_TMP: i16 = 88;

/// events.h: PTCAP_JIT_MAGIC, PTCAP_JIT_HELPER.
const MAGIC: i32 = 0x7470_746a;
const FLAG_HELPER: i32 = 1;

/// A place for the translation in a program's instructions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Index of the marker.
    pub at: usize,
    /// Instructions from the marker to the end of the no-op jumps.
    pub len: usize,
    ctx: u8,
    frame: u8,
    buf_off: i16,
    buf_max: u32,
    helper: bool,
}

fn raw(i: &libbpf_sys::bpf_insn) -> (u8, u8, u8, i16, i32) {
    (i.code, i.dst_reg(), i.src_reg(), i.off, i.imm)
}

/// The places in a program's instructions (one per inlined `PTCAP_JIT_PLACE`).
pub fn find(insns: &[libbpf_sys::bpf_insn]) -> Result<Vec<Place>, String> {
    const MOV64_K: u8 = ALU64 | OP_MOV | K;
    const MOV64_X: u8 = ALU64 | OP_MOV | X;
    let mut places = Vec::new();
    let mut i = 0;
    while i < insns.len() {
        let (code, dst, _, _, imm) = raw(&insns[i]);
        if !(code == MOV64_K && dst == 0 && imm == MAGIC) {
            i += 1;
            continue;
        }
        let field = |n: usize| insns.get(i + n).map(raw);
        let bad = |what: &str| format!("the filter's place at instruction {i}: {what}");
        let (Some(c), Some(f), Some(d), Some(h), Some(fl)) =
            (field(1), field(2), field(3), field(4), field(5))
        else {
            return Err(bad("cut short"));
        };
        if c.0 != MOV64_X || c.1 != 1 || f.0 != MOV64_X || f.1 != 2 {
            return Err(bad("no register moves after the marker"));
        }
        if [d, h, fl]
            .iter()
            .zip(3u8..)
            .any(|(x, r)| x.0 != MOV64_K || x.1 != r)
        {
            return Err(bad("no constants after the marker"));
        }
        let (ctx, frame) = (c.2, f.2);
        if !(8..=9).contains(&ctx) || !(8..=9).contains(&frame) || ctx == frame {
            return Err(bad(&format!(
                "registers r{ctx} and r{frame}, not r8 and r9"
            )));
        }
        let nop = |n: usize| insns.get(n).map(raw) == Some((JMP | J_JA, 0, 0, 0, 0));
        let mut end = i + 6;
        while nop(end) {
            end += 1;
        }
        let (buf_off, buf_max) = (d.4, h.4);
        if buf_off <= 0 || buf_max <= 0 || i64::from(buf_off) + i64::from(buf_max) > 32_000 {
            return Err(bad(&format!("buffer at {buf_off}, {buf_max} bytes")));
        }
        places.push(Place {
            at: i,
            len: end - i,
            ctx,
            frame,
            buf_off: buf_off as i16,
            buf_max: buf_max as u32,
            helper: fl.4 & FLAG_HELPER != 0,
        });
        i = end;
    }
    Ok(places)
}

/// Translates `filters` (each with its slot number: the frame's `slot` picks one) for `place`:
/// exactly `place.len` instructions, or why not (too long for the place, an instruction
/// libpcap does not emit).
pub fn translate(
    filters: &[(u32, &[CbpfInsn])],
    place: &Place,
) -> Result<Vec<libbpf_sys::bpf_insn>, String> {
    let mut t = Translator {
        out: Vec::new(),
        labels: Vec::new(),
        pcs: filters.iter().map(|(_, f)| vec![None; f.len()]).collect(),
        reject: None,
        exit: None,
        place: place.clone(),
    };
    t.mov32_k(RA, 0);
    t.mov32_k(RX, 0);
    t.ldx(SZ_W, 0, place.frame, F_SLOT);
    for (n, (slot, _)) in filters.iter().enumerate() {
        t.jmp_k(JMP, J_EQ, 0, *slot as i32, Label::Pc { filter: n, pc: 0 });
    }
    t.ja(Label::Reject);
    for (n, (_, prog)) in filters.iter().enumerate() {
        if prog.is_empty() {
            return Err(format!("filter {n} has no instructions"));
        }
        t.program(n, prog)?;
    }
    t.reject = Some(t.out.len());
    t.st_k(place.frame, F_RET, 0);
    t.exit = Some(t.out.len());
    t.finish()
}

struct Translator {
    out: Vec<Ins>,
    /// Positions of local labels.
    labels: Vec<Option<usize>>,
    /// Positions of each filter's instructions.
    pcs: Vec<Vec<Option<usize>>>,
    reject: Option<usize>,
    exit: Option<usize>,
    place: Place,
}

impl Translator {
    fn emit(&mut self, code: u8, dst: u8, src: u8, off: i16, imm: i32, target: Option<Label>) {
        self.out.push(Ins {
            code,
            dst,
            src,
            off,
            imm,
            target,
        });
    }
    fn label(&mut self) -> Label {
        self.labels.push(None);
        Label::Local(self.labels.len() - 1)
    }
    fn bind(&mut self, l: Label) {
        if let Label::Local(n) = l {
            self.labels[n] = Some(self.out.len());
        }
    }
    fn mov32_k(&mut self, dst: u8, imm: u32) {
        self.emit(ALU | OP_MOV | K, dst, 0, 0, imm as i32, None);
    }
    fn mov32_x(&mut self, dst: u8, src: u8) {
        self.emit(ALU | OP_MOV | X, dst, src, 0, 0, None);
    }
    fn mov64_x(&mut self, dst: u8, src: u8) {
        self.emit(ALU64 | OP_MOV | X, dst, src, 0, 0, None);
    }
    fn alu32_k(&mut self, op: u8, dst: u8, imm: u32) {
        self.emit(ALU | op | K, dst, 0, 0, imm as i32, None);
    }
    fn alu32_x(&mut self, op: u8, dst: u8, src: u8) {
        self.emit(ALU | op | X, dst, src, 0, 0, None);
    }
    fn alu64_k(&mut self, op: u8, dst: u8, imm: i32) {
        self.emit(ALU64 | op | K, dst, 0, 0, imm, None);
    }
    fn alu64_x(&mut self, op: u8, dst: u8, src: u8) {
        self.emit(ALU64 | op | X, dst, src, 0, 0, None);
    }
    fn ldx(&mut self, size: u8, dst: u8, base: u8, off: i16) {
        self.emit(LDX | MEM | size, dst, base, off, 0, None);
    }
    fn stx(&mut self, base: u8, off: i16, src: u8) {
        self.emit(STX | MEM | SZ_W, base, src, off, 0, None);
    }
    fn st_k(&mut self, base: u8, off: i16, imm: u32) {
        self.emit(ST | MEM | SZ_W, base, 0, off, imm as i32, None);
    }
    fn ja(&mut self, to: Label) {
        self.emit(JMP | J_JA, 0, 0, 0, 0, Some(to));
    }
    fn jmp_k(&mut self, class: u8, op: u8, dst: u8, imm: i32, to: Label) {
        self.emit(class | op | K, dst, 0, 0, imm, Some(to));
    }
    fn jmp_x(&mut self, class: u8, op: u8, dst: u8, src: u8, to: Label) {
        self.emit(class | op | X, dst, src, 0, 0, Some(to));
    }

    /// Loads `n` bytes (1, 2, 4) of the view in network order into `dst`: at `k` (`ind`: at
    /// X + k). Out of the packet: reject.
    fn load(&mut self, dst: u8, n: u32, k: u32, ind: bool) {
        let p = self.place.clone();
        let size = match n {
            1 => SZ_B,
            2 => SZ_H,
            _ => SZ_W,
        };
        let slow = self.label();
        let done = self.label();
        if !ind {
            let end = u64::from(k) + u64::from(n);
            if end > i32::MAX as u64 {
                // No packet is that long.
                self.ja(Label::Reject);
                return;
            }
            self.ldx(SZ_W, 3, p.frame, F_LEN);
            self.jmp_k(JMP, J_LT, 3, end as i32, Label::Reject);
            if end <= u64::from(p.buf_max) {
                // With the helper the buffer holds min(len, buf_max) bytes: enough.
                if !p.helper {
                    self.ldx(SZ_W, 3, p.frame, F_HEAD);
                    self.jmp_k(JMP, J_LT, 3, end as i32, Label::Reject);
                }
                self.ldx(size, dst, p.frame, p.buf_off + k as i16);
                self.swap(dst, n);
                return;
            }
            if !p.helper {
                self.ja(Label::Reject);
                return;
            }
            self.mov32_k(1, k);
        } else {
            // r1 = X + k in 64 bits (no wrap), r2 = r1 + n.
            self.mov32_x(1, RX);
            self.mov32_k(2, k);
            self.alu64_x(OP_ADD, 1, 2);
            self.mov64_x(2, 1);
            self.alu64_k(OP_ADD, 2, n as i32);
            self.ldx(SZ_W, 3, p.frame, F_LEN);
            self.jmp_x(JMP, J_GT, 2, 3, Label::Reject);
            let beyond = if p.helper { slow } else { Label::Reject };
            if !p.helper {
                self.ldx(SZ_W, 3, p.frame, F_HEAD);
                self.jmp_x(JMP, J_GT, 2, 3, Label::Reject);
            }
            // The bound the verifier checks the access against.
            self.jmp_k(JMP, J_GT, 1, (p.buf_max - n) as i32, beyond);
            self.mov64_x(2, p.frame);
            self.alu64_x(OP_ADD, 2, 1);
            self.ldx(size, dst, 2, p.buf_off);
            self.swap(dst, n);
            if !p.helper {
                return;
            }
            self.ja(done);
        }
        // Beyond the buffer (and within the packet): bpf_skb_load_bytes(ctx, r1 - shift,
        // frame->tmp, n). The buffer holds at least the first 16 bytes of such a packet, so
        // the offset is past the re-inserted tag.
        self.bind(slow);
        self.mov64_x(2, 1);
        self.ldx(SZ_W, 3, p.frame, F_SHIFT);
        self.alu64_x(OP_SUB, 2, 3);
        self.mov64_x(1, p.ctx);
        self.mov64_x(3, p.frame);
        self.alu64_k(OP_ADD, 3, i32::from(F_TMP));
        self.emit(ALU64 | OP_MOV | K, 4, 0, 0, n as i32, None);
        self.emit(JMP | J_CALL, 0, 0, 0, HELPER_SKB_LOAD_BYTES, None);
        self.jmp_k(JMP, J_NE, 0, 0, Label::Reject);
        self.ldx(size, dst, p.frame, F_TMP);
        self.swap(dst, n);
        self.bind(done);
    }

    /// Network to host order (the result zero-extended, as cBPF's loads).
    fn swap(&mut self, dst: u8, n: u32) {
        if n > 1 {
            self.emit(ALU | OP_END | TO_BE, dst, 0, 0, (n * 8) as i32, None);
        }
    }

    fn mem(k: u32) -> i16 {
        F_MEM + 4 * (k & 15) as i16
    }

    fn program(&mut self, n: usize, prog: &[CbpfInsn]) -> Result<(), String> {
        let frame = self.place.frame;
        let uses_mem = prog
            .iter()
            .any(|i| matches!(i.code & 0x07, 0x00 | 0x01) && i.code & 0xe0 == 0x60);
        for (pc, i) in prog.iter().enumerate() {
            self.pcs[n][pc] = Some(self.out.len());
            if pc == 0 && uses_mem {
                // bpf_filter leaves M[] undefined; the interpreter zeroes it: as that.
                for w in 0..16 {
                    self.st_k(frame, Self::mem(w), 0);
                }
            }
            let next = |d: u32| Label::Pc {
                filter: n,
                pc: pc + 1 + d as usize,
            };
            let bad = || format!("filter {n}, instruction {pc}: unknown code {:#06x}", i.code);
            let (Ok(code), k) = (u8::try_from(i.code), i.k) else {
                return Err(bad());
            };
            let size = || match code & 0x18 {
                0x00 => Some(4),
                0x08 => Some(2),
                0x10 => Some(1),
                _ => None,
            };
            match code & 0x07 {
                0x00 => match code & 0xe0 {
                    // ld
                    0x00 => self.mov32_k(RA, k),
                    0x20 => self.load(RA, size().ok_or_else(bad)?, k, false),
                    0x40 => self.load(RA, size().ok_or_else(bad)?, k, true),
                    0x60 => self.ldx(SZ_W, RA, frame, Self::mem(k)),
                    0x80 => self.ldx(SZ_W, RA, frame, F_LEN),
                    _ => return Err(bad()),
                },
                0x01 => match code & 0xe0 {
                    // ldx
                    0x00 => self.mov32_k(RX, k),
                    0x60 => self.ldx(SZ_W, RX, frame, Self::mem(k)),
                    0x80 => self.ldx(SZ_W, RX, frame, F_LEN),
                    0xa0 => {
                        self.load(RX, 1, k, false);
                        self.alu32_k(OP_AND, RX, 0xf);
                        self.alu32_k(OP_LSH, RX, 2);
                    }
                    _ => return Err(bad()),
                },
                0x02 => self.stx(frame, Self::mem(k), RA),
                0x03 => self.stx(frame, Self::mem(k), RX),
                0x04 => self.alu(code, k).ok_or_else(bad)?,
                0x05 => {
                    let op = code & 0xf0;
                    if op == 0x00 {
                        self.ja(next(k));
                        continue;
                    }
                    let (t, f) = (next(u32::from(i.jt)), next(u32::from(i.jf)));
                    if t == f {
                        self.ja(t);
                        continue;
                    }
                    let (op, inverse) = match op {
                        0x10 => (J_EQ, Some(J_NE)),
                        0x20 => (J_GT, Some(J_LE)),
                        0x30 => (J_GE, Some(J_LT)),
                        0x40 => (J_SET, None),
                        _ => return Err(bad()),
                    };
                    let by_x = code & 0x08 != 0;
                    let cond = |s: &mut Self, op: u8, to: Label| {
                        if by_x {
                            s.jmp_x(JMP32, op, RA, RX, to)
                        } else {
                            s.jmp_k(JMP32, op, RA, k as i32, to)
                        }
                    };
                    match (i.jt, inverse) {
                        // true falls through: jump on the inverse to false
                        (0, Some(inv)) => cond(self, inv, f),
                        _ => {
                            cond(self, op, t);
                            if i.jf != 0 {
                                self.ja(f);
                            }
                        }
                    }
                }
                0x06 => {
                    match code & 0x18 {
                        0x00 => self.st_k(frame, F_RET, k),
                        0x10 => self.stx(frame, F_RET, RA),
                        _ => return Err(bad()),
                    }
                    self.ja(Label::Exit);
                }
                _ => match code & 0xf8 {
                    // misc
                    0x00 => self.mov32_x(RX, RA),
                    0x80 => self.mov32_x(RA, RX),
                    _ => return Err(bad()),
                },
            }
        }
        // Running off the end rejects.
        if !matches!(prog.last(), Some(i) if i.code & 0x07 == 0x06) {
            self.ja(Label::Reject);
        }
        Ok(())
    }

    /// A = A op (k or X). None for an unknown operation.
    fn alu(&mut self, code: u8, k: u32) -> Option<()> {
        let op = code & 0xf0;
        let by_x = code & 0x08 != 0;
        match op {
            OP_NEG => self.alu32_k(OP_NEG, RA, 0),
            OP_ADD | OP_SUB | OP_MUL | OP_OR | OP_AND | OP_XOR => {
                if by_x {
                    self.alu32_x(op, RA, RX)
                } else {
                    self.alu32_k(op, RA, k)
                }
            }
            OP_DIV | OP_MOD => {
                if by_x {
                    self.jmp_k(JMP32, J_EQ, RX, 0, Label::Reject);
                    self.alu32_x(op, RA, RX);
                } else if k == 0 {
                    self.ja(Label::Reject);
                } else {
                    self.alu32_k(op, RA, k);
                }
            }
            OP_LSH | OP_RSH => {
                if !by_x {
                    if k < 32 {
                        self.alu32_k(op, RA, k);
                    } else {
                        self.mov32_k(RA, 0);
                    }
                } else {
                    let zero = self.label();
                    let done = self.label();
                    self.jmp_k(JMP32, J_GT, RX, 31, zero);
                    self.alu32_x(op, RA, RX);
                    self.ja(done);
                    self.bind(zero);
                    self.mov32_k(RA, 0);
                    self.bind(done);
                }
            }
            _ => return None,
        }
        Some(())
    }

    /// Resolves the jumps and pads the code to the place's length.
    fn finish(mut self) -> Result<Vec<libbpf_sys::bpf_insn>, String> {
        let len = self.place.len;
        let exit = self.exit.expect("exit bound");
        let spare = len
            .checked_sub(self.out.len())
            .ok_or_else(|| format!("{} instructions for a place of {len}", self.out.len()))?;
        // The padding: reachable for the verifier's graph check (a dead branch it proves never
        // taken, which the kernel then removes in one piece), skipped at run time.
        if spare <= 3 {
            for _ in 0..spare {
                self.emit(JMP | J_JA, 0, 0, 0, 0, None);
            }
        } else {
            self.mov32_k(1, 0);
            self.emit(JMP | J_NE | K, 1, 0, 1, 0, None);
            self.ja(Label::End);
            while self.out.len() < len {
                self.emit(JMP | J_JA, 0, 0, 0, 0, None);
            }
        }
        let at = |l: Label| -> Result<usize, String> {
            let pos = match l {
                Label::Pc { filter, pc } => self.pcs[filter].get(pc).copied().flatten(),
                Label::Local(n) => self.labels[n],
                Label::Reject => self.reject,
                Label::Exit => Some(exit),
                Label::End => Some(len),
            };
            pos.ok_or_else(|| format!("a jump to {l:?}, past the filter's end"))
        };
        let mut out = Vec::with_capacity(len);
        for (n, i) in self.out.iter().enumerate() {
            let off = match i.target {
                Some(l) => {
                    let to = at(l)?;
                    if to <= n {
                        return Err(format!("a jump backwards at {n}"));
                    }
                    i16::try_from(to - n - 1).map_err(|_| "a jump too long".to_string())?
                }
                None => i.off,
            };
            // SAFETY: a plain C struct; zero is a valid value of every field.
            let mut b: libbpf_sys::bpf_insn = unsafe { std::mem::zeroed() };
            b.code = i.code;
            b.set_dst_reg(i.dst);
            b.set_src_reg(i.src);
            b.off = off;
            b.imm = i.imm;
            out.push(b);
        }
        Ok(out)
    }
}

/// Overwrites every place in `insns` with the translation of `filters`: how many places, or why
/// a translation does not fit.
pub fn splice(
    insns: &mut [libbpf_sys::bpf_insn],
    filters: &[(u32, &[CbpfInsn])],
) -> Result<usize, String> {
    let places = find(insns)?;
    for p in &places {
        let code = translate(filters, p)?;
        insns[p.at..p.at + p.len].copy_from_slice(&code);
    }
    Ok(places.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::compile;
    use crate::LinkKind;

    fn ins(code: u8, dst: u8, src: u8, imm: i32) -> libbpf_sys::bpf_insn {
        // SAFETY: as in finish.
        let mut b: libbpf_sys::bpf_insn = unsafe { std::mem::zeroed() };
        b.code = code;
        b.set_dst_reg(dst);
        b.set_src_reg(src);
        b.imm = imm;
        b
    }

    /// A program shaped as clang compiles PTCAP_JIT_PLACE: something before, the marker, the
    /// moves, `n` no-op jumps, something after.
    fn program(n: usize, helper: bool) -> Vec<libbpf_sys::bpf_insn> {
        let mut v = vec![ins(0xbf, 9, 1, 0), ins(0xbf, 8, 2, 0)];
        v.push(ins(0xb7, 0, 0, MAGIC));
        v.push(ins(0xbf, 1, 9, 0));
        v.push(ins(0xbf, 2, 8, 0));
        v.push(ins(0xb7, 3, 0, 136));
        v.push(ins(0xb7, 4, 0, 256));
        v.push(ins(0xb7, 5, 0, helper as i32));
        v.extend((0..n).map(|_| ins(0x05, 0, 0, 0)));
        v.push(ins(0x61, 0, 8, 0));
        v.push(ins(0x95, 0, 0, 0));
        v
    }

    #[test]
    fn finds_the_place_and_its_registers() {
        let p = find(&program(100, true)).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].at, p[0].len, p[0].ctx, p[0].frame), (2, 106, 9, 8));
        assert_eq!((p[0].buf_off, p[0].buf_max, p[0].helper), (136, 256, true));
    }

    #[test]
    fn splices_every_expression_in_place_with_jumps_inside() {
        for expr in [
            "tcp port 80",
            "host 198.18.0.1 and (udp or icmp)",
            "vlan and udp[8:4] = 0x50544341",
            "ip[2:2] / 4 > 100 and ip[2:2] % 7 = 3",
            "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
            "ip6 and tcp",
            "len > 1000 or ether broadcast",
        ] {
            let eth = compile(expr, LinkKind::Ethernet, 262144).unwrap();
            let raw = compile(
                expr.trim_start_matches("vlan and "),
                LinkKind::RawIp,
                262144,
            );
            let mut filters = vec![(0u32, eth.instructions())];
            if let Ok(r) = &raw {
                filters.push((1, r.instructions()));
            }
            for helper in [true, false] {
                let mut prog = program(4096, helper);
                let before = prog.len();
                assert_eq!(splice(&mut prog, &filters), Ok(1), "{expr}");
                assert_eq!(prog.len(), before);
                // Every jump lands inside the place or on the instruction after it.
                for (n, i) in prog[2..2 + 4102].iter().enumerate() {
                    let class = i.code & 0x07;
                    if (class == JMP || class == JMP32) && i.code & 0xf0 != J_CALL {
                        let to = n as i64 + 1 + i64::from(i.off);
                        assert!(to > n as i64 && to <= 4102, "{expr}: jump at {n} to {to}");
                    }
                }
                assert_eq!(prog[prog.len() - 2].code, 0x61);
            }
        }
    }

    #[test]
    fn a_translation_longer_than_its_place_is_refused() {
        let f = compile("tcp port 80 or udp port 53", LinkKind::Ethernet, 262144).unwrap();
        let mut prog = program(50, true);
        let e = splice(&mut prog, &[(0, f.instructions())]).unwrap_err();
        assert!(e.contains("for a place of"), "{e}");
    }

    #[test]
    fn unknown_codes_are_refused() {
        let bad = [CbpfInsn {
            code: 0xff,
            jt: 0,
            jf: 0,
            k: 0,
        }];
        let mut prog = program(100, true);
        assert!(splice(&mut prog, &[(0, &bad)]).is_err());
    }
}
