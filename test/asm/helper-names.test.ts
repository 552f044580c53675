// Helper numbers and names (src/helpers/names.ts) against the uapi header's values.
import { describe, expect, it } from 'vitest';
import { HELPER_NAMES, helperId, helperName } from '../../src/helpers/names.js';

describe('helper names', () => {
  it('numbers helpers as enum bpf_func_id does', () => {
    // Spot values from include/uapi/linux/bpf.h ___BPF_FUNC_MAPPER.
    expect(helperName(1)).toBe('bpf_map_lookup_elem');
    expect(helperName(12)).toBe('bpf_tail_call');
    expect(helperName(69)).toBe('bpf_fib_lookup');
    expect(helperName(130)).toBe('bpf_ringbuf_output');
    expect(helperName(164)).toBe('bpf_for_each_map_elem');
    expect(helperName(181)).toBe('bpf_loop');
    expect(helperName(209)).toBe('bpf_user_ringbuf_drain');
    expect(helperName(211)).toBe('bpf_cgrp_storage_delete');
  });

  it('ends at the frozen upstream list (211) with unique names', () => {
    expect(HELPER_NAMES.length).toBe(212);
    expect(new Set(HELPER_NAMES).size).toBe(HELPER_NAMES.length);
  });

  it('has no name for 0 (unspec), negative or unknown numbers', () => {
    expect(helperName(0)).toBeUndefined();
    expect(helperName(-1)).toBeUndefined();
    expect(helperName(212)).toBeUndefined();
    expect(helperName(1.5)).toBeUndefined();
  });

  it('finds numbers by name with or without the bpf_ prefix', () => {
    expect(helperId('bpf_redirect')).toBe(23);
    expect(helperId('redirect')).toBe(23);
    expect(helperId('unspec')).toBeUndefined();
    expect(helperId('bpf_nope')).toBeUndefined();
  });
});
