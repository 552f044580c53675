// BTF type model. Encoding: the kernel's Documentation/bpf/btf.rst and
// include/uapi/linux/btf.h (struct btf_header, struct btf_type and the kind-specific
// trailers). Type ids start at 1; id 0 is void.

export const BTF_MAGIC = 0xeb9f;

// BTF_KIND_* (include/uapi/linux/btf.h).
export const BTF_KIND_UNKN = 0;
export const BTF_KIND_INT = 1;
export const BTF_KIND_PTR = 2;
export const BTF_KIND_ARRAY = 3;
export const BTF_KIND_STRUCT = 4;
export const BTF_KIND_UNION = 5;
export const BTF_KIND_ENUM = 6;
export const BTF_KIND_FWD = 7;
export const BTF_KIND_TYPEDEF = 8;
export const BTF_KIND_VOLATILE = 9;
export const BTF_KIND_CONST = 10;
export const BTF_KIND_RESTRICT = 11;
export const BTF_KIND_FUNC = 12;
export const BTF_KIND_FUNC_PROTO = 13;
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;
export const BTF_KIND_FLOAT = 16;
export const BTF_KIND_DECL_TAG = 17;
export const BTF_KIND_TYPE_TAG = 18;
export const BTF_KIND_ENUM64 = 19;

// BTF_INT_* encoding bits (btf.h).
export const BTF_INT_SIGNED = 1 << 0;
export const BTF_INT_CHAR = 1 << 1;
export const BTF_INT_BOOL = 1 << 2;

// Linkage of VAR (enum btf_var_linkage) and FUNC (enum btf_func_linkage).
export const BTF_VAR_STATIC = 0;
export const BTF_VAR_GLOBAL_ALLOCATED = 1;
export const BTF_VAR_GLOBAL_EXTERN = 2;
export const BTF_FUNC_STATIC = 0;
export const BTF_FUNC_GLOBAL = 1;
export const BTF_FUNC_EXTERN = 2;

export type BtfKind =
  | 'void'
  | 'int'
  | 'ptr'
  | 'array'
  | 'struct'
  | 'union'
  | 'enum'
  | 'fwd'
  | 'typedef'
  | 'volatile'
  | 'const'
  | 'restrict'
  | 'func'
  | 'func_proto'
  | 'var'
  | 'datasec'
  | 'float'
  | 'decl_tag'
  | 'type_tag'
  | 'enum64';

/** Kind names indexed by BTF_KIND_* number (libbpf's btf_kind_str spelling). */
export const BTF_KIND_NAMES: readonly BtfKind[] = [
  'void', 'int', 'ptr', 'array', 'struct', 'union', 'enum', 'fwd', 'typedef', 'volatile',
  'const', 'restrict', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag', 'enum64',
];

export interface BtfMember {
  name: string;
  type: number;
  /** Offset from the start of the struct, in bits. */
  bitOffset: number;
  /** Bitfield width in bits; 0 for an ordinary member. */
  bitfieldSize: number;
}

export interface BtfEnumValue {
  name: string;
  /** ENUM values are 32-bit, ENUM64 values 64-bit; both as bigint so nothing is lost. */
  value: bigint;
}

export interface BtfParam {
  name: string;
  type: number;
}

export interface BtfVarSecinfo {
  /** A VAR (or FUNC for .ksyms) type id. */
  type: number;
  offset: number;
  size: number;
}

interface Base<K extends BtfKind> {
  id: number;
  kind: K;
  name: string;
}

export type BtfType =
  | Base<'void'>
  | (Base<'int'> & { size: number; signed: boolean; char: boolean; bool: boolean; bitOffset: number; bits: number })
  | (Base<'ptr'> & { type: number })
  | (Base<'array'> & { type: number; indexType: number; nelems: number })
  | (Base<'struct' | 'union'> & { size: number; members: BtfMember[] })
  | (Base<'enum' | 'enum64'> & { size: number; signed: boolean; values: BtfEnumValue[] })
  | (Base<'fwd'> & { union: boolean })
  | (Base<'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag'> & { type: number })
  | (Base<'func'> & { type: number; linkage: number })
  | (Base<'func_proto'> & { returnType: number; params: BtfParam[] })
  | (Base<'var'> & { type: number; linkage: number })
  | (Base<'datasec'> & { size: number; vars: BtfVarSecinfo[] })
  | (Base<'float'> & { size: number })
  | (Base<'decl_tag'> & { type: number; componentIdx: number });

