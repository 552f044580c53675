// Load-time validation, once per program, so the execution loop only checks what depends on
// data (as uBPF's validate() does). The checks are the static ones of RFC 9669 and the kernel
// verifier (kernel/bpf/verifier.c: do_check_insn / check_alu_op / check_cond_jmp_op
// "uses reserved fields", check_subprogs "jump out of range", "last insn is not an exit or jmp",
// resolve_pseudo_ldimm64 "invalid bpf_ld_imm64 insn", check_ld_abs, check_atomic).
import type { Insn } from '../asm/insn.js';

export interface ValidateOptions {
  /** Helper numbers the program may call. */
  helpers: ReadonlySet<number>;
  /** Kernel name of a helper number, for messages (e.g. src/helpers/names.ts helperName). */
  helperName?: (id: number) => string | undefined;
}

export interface ValidationProblem {
  insnIndex: number;
  message: string;
}

const ALU_OPS_VALID = new Set([0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xa, 0xb, 0xc, 0xd]);
const JMP_COND_OPS = new Set([0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0xa, 0xb, 0xc, 0xd]);
const ATOMIC_OPS = new Set([0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1]);

/** Returns every problem found; an empty list means the program may be loaded. */
export function validateProgram(insns: readonly Insn[], opts: ValidateOptions): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const n = insns.length;
  const report = (insnIndex: number, message: string): void => {
    problems.push({ insnIndex, message });
  };
  if (n === 0) {
    report(0, 'program has no instructions');
    return problems;
  }
  // Second slots of lddw: not instruction starts.
  const secondSlot = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (insns[i].opcode === 0x18) {
      if (i + 1 >= n) {
        report(i, 'lddw is missing its second slot');
        return problems;
      }
      secondSlot[i + 1] = 1;
      i++;
    }
  }
  const checkTarget = (i: number, target: number, what: string): void => {
    if (target < 0 || target >= n) report(i, `${what} target ${target} is outside the program (0..${n - 1})`);
    else if (secondSlot[target]) report(i, `${what} target ${target} is the second slot of an lddw`);
  };
  const helperLabel = (id: number): string => opts.helperName?.(id) ?? `bpf_${id}`;

  for (let i = 0; i < n; i++) {
    if (secondSlot[i]) continue;
    const insn = insns[i];
    const { opcode, dst, src, off, imm } = insn;
    const cls = opcode & 7;
    const op = opcode >> 4;
    const x = (opcode & 0x08) !== 0;
    const err = (message: string): void => report(i, message);
    const regOk = (r: number, role: string): boolean => {
      if (r > 10) {
        err(`invalid register r${r} as ${role} (registers are r0..r10)`);
        return false;
      }
      return true;
    };
    const writes = (r: number): void => {
      if (r === 10) err('r10 is read-only (frame pointer)');
    };
    let fallsThrough = true;
    let width = 1;

    switch (cls) {
      case 0x04: // ALU
      case 0x07: {
        // ALU64
        const name = cls === 0x07 ? 'BPF_ALU64' : 'BPF_ALU';
        if (!ALU_OPS_VALID.has(op)) {
          err(`unknown opcode 0x${hex2(opcode)}`);
          break;
        }
        if (!regOk(dst, 'destination') || !regOk(src, 'source')) break;
        if (op === 0xd) {
          // BPF_END (check_alu_op: "BPF_END uses reserved fields").
          if (src !== 0 || off !== 0 || (imm !== 16 && imm !== 32 && imm !== 64) || (cls === 0x07 && x)) {
            err('BPF_END uses reserved fields');
          }
        } else if (op === 0x8) {
          if (x || src !== 0 || off !== 0 || imm !== 0) err('BPF_NEG uses reserved fields');
        } else if (op === 0xb) {
          if (x) {
            const offs = cls === 0x07 ? [0, 8, 16, 32] : [0, 8, 16];
            if (imm !== 0 || !offs.includes(off)) err('BPF_MOV uses reserved fields');
          } else if (src !== 0 || off !== 0) err('BPF_MOV uses reserved fields');
        } else {
          const signedOk = op === 0x3 || op === 0x9 ? off === 0 || off === 1 : off === 0;
          if (x ? imm !== 0 || !signedOk : src !== 0 || !signedOk) err(`${name} uses reserved fields`);
        }
        writes(dst);
        break;
      }
      case 0x05: // JMP
      case 0x06: {
        // JMP32
        if (op === 0x0) {
          // JA / gotol (check_cond_jmp_op / do_check_insn "BPF_JA uses reserved fields").
          if (x || src !== 0 || dst !== 0 || (cls === 0x05 && imm !== 0) || (cls === 0x06 && off !== 0)) {
            err('BPF_JA uses reserved fields');
            break;
          }
          checkTarget(i, i + 1 + (cls === 0x06 ? imm : off), 'jump');
          fallsThrough = false;
        } else if (op === 0x8) {
          if (cls === 0x06) {
            err(`unknown opcode 0x${hex2(opcode)}`);
            break;
          }
          if (x) {
            // callx (clang: register in dst_reg; LLVM before 19 in imm).
            const reg = dst !== 0 ? dst : imm;
            if (src !== 0 || off !== 0 || reg < 0 || reg > 10) err('BPF_CALL|BPF_X uses reserved fields');
            break;
          }
          if (off !== 0 || dst !== 0) {
            err('BPF_CALL uses reserved fields');
            break;
          }
          if (src === 0) {
            if (!opts.helpers.has(imm)) err(`helper ${imm} (${helperLabel(imm)}) is not emulated`);
          } else if (src === 1) {
            const target = i + 1 + imm;
            checkTarget(i, target, 'call');
          } else if (src === 2) {
            err(`kfunc call (btf id ${imm}) is not supported`);
          } else {
            err('BPF_CALL uses reserved fields');
          }
        } else if (op === 0x9) {
          if (cls === 0x06 || x || imm !== 0 || src !== 0 || dst !== 0 || off !== 0) {
            err(cls === 0x06 ? `unknown opcode 0x${hex2(opcode)}` : 'BPF_EXIT uses reserved fields');
            break;
          }
          fallsThrough = false;
        } else if (JMP_COND_OPS.has(op)) {
          if (!regOk(dst, 'destination') || !regOk(src, 'source')) break;
          if (x ? imm !== 0 : src !== 0) {
            err(`${cls === 0x06 ? 'BPF_JMP32' : 'BPF_JMP'}/${x ? 'X' : 'K'} uses reserved fields`);
            break;
          }
          checkTarget(i, i + 1 + off, 'jump');
        } else {
          err(`unknown opcode 0x${hex2(opcode)}`);
        }
        break;
      }
      case 0x00: {
        // LD
        const mode = opcode & 0xe0;
        const size = opcode & 0x18;
        if (opcode === 0x18) {
          width = 2;
          const hi = insns[i + 1];
          if (off !== 0 || hi.opcode !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) {
            err('invalid bpf_ld_imm64 insn');
            break;
          }
          if (src === 4) {
            // BPF_PSEUDO_FUNC: imm is the slot offset of a function (kernel semantics); the
            // Machine turns it into that function's code address at load.
            if (hi.imm !== 0) err('invalid bpf_ld_imm64 insn');
            else checkTarget(i, i + 1 + imm, 'function address');
          } else if (src !== 0) {
            err(`lddw with pseudo source ${src} must be resolved by the loader before it reaches the VM`);
            break;
          }
          if (regOk(dst, 'destination')) writes(dst);
        } else if ((mode === 0x20 || mode === 0x40) && size !== 0x18) {
          // check_ld_abs: "BPF_LD_[ABS|IND] uses reserved fields".
          if (dst !== 0 || off !== 0 || (mode === 0x20 && src !== 0) || !regOk(src, 'source')) {
            err('BPF_LD_[ABS|IND] uses reserved fields');
          }
        } else {
          err(`unknown opcode 0x${hex2(opcode)}`);
        }
        break;
      }
      case 0x01: {
        // LDX: BPF_MEM any size, BPF_MEMSX B/H/W.
        const mode = opcode & 0xe0;
        if (!(mode === 0x60 || (mode === 0x80 && (opcode & 0x18) !== 0x18))) {
          err(`unknown opcode 0x${hex2(opcode)}`);
          break;
        }
        if (!regOk(dst, 'destination') || !regOk(src, 'source')) break;
        if (imm !== 0) err('BPF_LDX uses reserved fields');
        writes(dst);
        break;
      }
      case 0x02: {
        // ST
        if ((opcode & 0xe0) !== 0x60) {
          err(`unknown opcode 0x${hex2(opcode)}`);
          break;
        }
        if (!regOk(dst, 'destination')) break;
        if (src !== 0) err('BPF_ST uses reserved fields');
        break;
      }
      case 0x03: {
        // STX: BPF_MEM, or BPF_ATOMIC W/DW (check_atomic).
        const mode = opcode & 0xe0;
        if (!regOk(dst, 'destination') || !regOk(src, 'source')) break;
        if (mode === 0x60) {
          if (imm !== 0) err('BPF_STX uses reserved fields');
        } else if (mode === 0xc0) {
          const size = opcode & 0x18;
          if (imm === 0x100 || imm === 0x110) {
            // load-acquire / store-release (kernel 6.15+), any size.
            if (imm === 0x100) writes(dst);
          } else if (size !== 0x00 && size !== 0x18) {
            err(`unknown opcode 0x${hex2(opcode)} (atomics are 32 or 64 bit)`);
          } else if (!ATOMIC_OPS.has(imm)) {
            err(`BPF_ATOMIC uses invalid atomic opcode 0x${(imm >>> 0).toString(16)}`);
          } else if (imm & 1) {
            // FETCH forms write the source register (cmpxchg writes r0).
            if (imm !== 0xf1) writes(src);
          }
        } else {
          err(`unknown opcode 0x${hex2(opcode)}`);
        }
        break;
      }
    }
    // "last insn is not an exit or jmp" / falling into the void (check_subprogs).
    if (fallsThrough && i + width >= n) err('the program falls off its end (last instruction is not an exit or jump)');
    i += width - 1;
  }
  return problems;
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0');
}
