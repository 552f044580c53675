// bpfbed's library API: browser-safe, for tests (vitest), tools and the playground.
//
//   const spec = loadObject(bytes);                  // plain, editable data (ObjectSpec)
//   const bed = await Testbed.create(spec, { environment });
//   bed.typedMap('services').set({ address: '10.96.0.10', dport: 80 }, { ... });
//   const out = bed.runWithMemory('prog', buffer);   // r0, faults, printk, tail calls, trace
//
// The CLI (src/cli) and the Node adapters (src/node) are not part of it.

// Objects: ELF/BTF → ObjectSpec
export { loadObject, ObjectLoadError } from './loader/object.js';
export type { ObjectSpec, ProgramSpec, MapSpec, LineInfo, FuncInfo, MapReference, FunctionRange, MapSlot } from './loader/spec.js';
export { mapIndexByName, programByName } from './loader/spec.js';
export { programTypeForSection } from './loader/sections.js';
export { Btf, parseBtf } from './btf/btf.js';
export { decodeValue, encodeValue } from './btf/value.js';
export { describeObject, disassembleProgram, type ObjectSummary } from './inspect.js';

// Instructions
export type { Insn } from './asm/insn.js';
export { decodeInsns, encodeInsns } from './asm/insn.js';
export { formatInsn, disassemble } from './asm/disasm.js';
export { assemble, AssembleError } from './asm/assembler.js';
export { helperName, HELPER_NAMES } from './helpers/names.js';

// The VM
export { Machine, ProgramLoadError, HelperFault } from './vm/machine.js';
export { execRaw, RawProgram, type ExecRawResult } from './vm/exec.js';
export type { Fault, FaultCode, RunResult, RunOptions, TraceEntry, SourceLine } from './vm/types.js';

// A live object with the emulated kernel around it
export { Testbed, type TestbedOptions, type LoadedProgram, type RunOutcome } from './testbed/testbed.js';
export { TypedMap, type TypedEntry } from './typed/typed-map.js';
export { encodeTyped, decodeTyped, diffTyped, TypedValueError, type TypedValue } from './typed/typed-value.js';
export { Environment, EnvironmentError, type EnvironmentSpec } from './env/environment.js';
export type { BpfMap, MapEntry, MapDump } from './maps/types.js';

// Program contexts: tc, XDP, socket filters, cgroup socket address hooks
export { CtxRunner, contextKindOf, type CtxRunnerOptions, type SkbRunResult, type XdpRunResult, type SockAddrRunResult } from './ctx/runner.js';
export { skbFromFrame, skbFromIpPacket, type SkbState } from './ctx/skb.js';
export { xdpFromFrame, type XdpState } from './ctx/xdp.js';
export { sockAddrState, type SockAddrState } from './ctx/sock-addr.js';
export { tcVerdict, xdpVerdict, type Verdict } from './ctx/verdicts.js';

// Packets
export { readCapture, iterateCapture, CaptureError, type CapturedPacket } from './pcap/read.js';
export { PcapWriter, PcapngWriter } from './pcap/write.js';
export { toEthernetFrame } from './pcap/ethernet.js';
export { decodePacket, getField } from './packet/decode.js';
export { summarizePacket } from './packet/summary.js';
export { diffPackets, formatDiff } from './packet/diff.js';

// Scenarios and runs over captures
export { parseScenario, ScenarioError } from './scenario/parse.js';
export { SCENARIO_SCHEMA } from './scenario/schema.js';
export type { Scenario } from './scenario/types.js';
export { runScenario, prepareScenario, type RunReport, type PacketReport, type FileReader } from './run/scenario-run.js';
export { Pipeline, type PacketFate, type Hop } from './run/pipeline.js';
export { OutputSet } from './run/outputs.js';

// Snapshots of a Testbed: Testbed#snapshot() and Testbed.fromSnapshot()
// Test matchers: 'bpfbed/testing' (src/testing/matchers.ts)

// Emulated sockets driving the cgroup socket address hooks (connect, sendmsg, recvmsg, getpeername)
export { SocketHost, EmulatedSocket, formatEndpoint, type HookRun, type SocketCallResult, type Datagram, type Endpoint } from './sockets/socket-host.js';
