// A scenario's world, rebuilt on demand, and its packets fed one at a time. Runs are
// deterministic (the environment's seeded PRNG and virtual clock, src/env), so the world after
// packets 1..N-1 is the same every time it is rebuilt: that is how a packet's detail is
// replayed instead of keeping every packet's trace and map copies.
//
// The per-packet step is runScenario's own (CaptureFeed, src/run/scenario-run.ts): the same
// default device, per-packet overrides, clock advance between capture timestamps, the same
// Pipeline. test/playground/bundled-scenarios.test.ts checks, on every bundled scenario, that a
// replay gives each packet the row of runScenario's run.
import type { CtxRunner, SkbRunResult, XdpRunResult } from '../../ctx/runner.js';
import { loadObject } from '../../loader/object.js';
import type { ObjectSpec } from '../../loader/spec.js';
import { readCapture, type CapturedPacket } from '../../pcap/read.js';
import { Pipeline } from '../../run/pipeline.js';
import { CaptureFeed, prepareScenario, type FedPacket, type FileReader } from '../../run/scenario-run.js';
import type { Scenario } from '../../scenario/types.js';
import { restoreState } from './restore-state.js';

export class ScenarioWorld {
  readonly packets: CapturedPacket[];
  readonly captureError?: string;

  constructor(
    readonly scenario: Scenario,
    readonly read: FileReader,
    /** A Testbed#snapshot() to start from instead of the scenario's map entries. */
    readonly state?: Uint8Array,
  ) {
    const input = scenario.input;
    const capture = input ? readCapture(read(input.pcap)) : { packets: [] as CapturedPacket[], error: undefined };
    this.packets = capture.packets;
    if (capture.error) this.captureError = `${input!.pcap}: ${capture.error.message}`;
  }

  private parsed?: ObjectSpec;

  /** The object, parsed once for every world built from this one. */
  objectSpec(): ObjectSpec {
    return (this.parsed ??= loadObject(this.read(this.scenario.object), { name: this.scenario.object.split('/').pop() }));
  }

  /** The world before the first packet: the scenario's, or its devices with the snapshot's maps and clock. */
  async create(): Promise<CtxRunner> {
    const runner = await prepareScenario(this.scenario, this.read, this.objectSpec());
    if (this.state) restoreState(runner, this.state);
    return runner;
  }

  /** Position in the capture of packet number `packet` (the capture's 1-based index). */
  positionOf(packet: number): number {
    const at = this.packets.findIndex((p) => p.index === packet);
    if (at < 0) throw new Error(`packet ${packet}: the capture has no such packet (${this.packets.length} packets)`);
    return at;
  }
}

/** A loop's world part way through the capture, to replay from instead of from the start. */
export interface Checkpoint {
  /** Position of the next packet to feed. */
  position: number;
  previousTs?: bigint;
  /** Testbed#snapshot(): maps and the whole environment. */
  state: Uint8Array;
}

export interface StepResult extends FedPacket {
  /** Each program run of the packet, in hop order (faults with their instruction, traces). */
  runs: (SkbRunResult | XdpRunResult)[];
}

/** Feeds a world's packets in order, with runScenario's own per-packet step (CaptureFeed). */
export class PacketLoop {
  private readonly feed: CaptureFeed;
  private readonly runs: (SkbRunResult | XdpRunResult)[] = [];
  private readonly plain: Pipeline;
  private readonly traced: Pipeline | undefined;
  /** Position of the next packet to feed. */
  next = 0;

  constructor(
    readonly world: ScenarioWorld,
    readonly runner: CtxRunner,
    traceLimit = 0,
  ) {
    const { scenario } = world;
    this.feed = new CaptureFeed(scenario.input, runner.bed.env);
    // The Pipeline calls only runXdp and runSkb: a view of the runner that records their results
    // keeps what Hop leaves out (the fault's instruction, the trace's program ids).
    const recording = Object.create(runner) as CtxRunner;
    recording.runSkb = (...args) => this.record(runner.runSkb(...args));
    recording.runXdp = (...args) => this.record(runner.runXdp(...args));
    this.plain = new Pipeline(recording, runner.bed.env, scenario.programs, scenario.budget);
    this.traced = traceLimit > 0 ? new Pipeline(recording, runner.bed.env, scenario.programs, scenario.budget, traceLimit) : undefined;
  }

  /** The world now, to resume from later (PacketLoop.resume). */
  checkpoint(): Checkpoint {
    const previousTs = this.feed.previousTs;
    return { position: this.next, ...(previousTs !== undefined ? { previousTs } : {}), state: this.runner.bed.snapshot() };
  }

  /** A loop continuing from a checkpoint of a loop over the same world. */
  static async resume(world: ScenarioWorld, checkpoint: Checkpoint, traceLimit = 0): Promise<PacketLoop> {
    const runner = await prepareScenario(world.scenario, world.read, world.objectSpec());
    restoreState(runner, checkpoint.state, true);
    const loop = new PacketLoop(world, runner, traceLimit);
    loop.next = checkpoint.position;
    loop.feed.previousTs = checkpoint.previousTs;
    return loop;
  }

  private record<T extends SkbRunResult | XdpRunResult>(result: T): T {
    this.runs.push(result);
    return result;
  }

  get done(): boolean {
    return this.next >= this.world.packets.length;
  }

  /**
   * Feeds the next packet; `trace` records its instructions (when the loop has a trace limit).
   * `fastForward` skips what only a report needs (decoding and summarising the packet): the
   * world changes exactly as it would otherwise.
   */
  step(trace = false, fastForward = false): StepResult {
    const pkt = this.world.packets[this.next++];
    this.runs.length = 0;
    const pipeline = trace && this.traced ? this.traced : this.plain;
    const fed = this.feed.feed(pipeline, pkt, !fastForward);
    return { ...fed, runs: fed.fate ? [...this.runs] : [] };
  }
}
