// The JSON Schema of scenario files (draft 2020-12 subset that ajv validates). It is the
// format's documentation for editors too: `docs/scenario.schema.json` is this object, kept equal
// by a test.
import { clusterSpecSchema } from '../k8s/scenario.js';
const typedValue = { description: 'A typed value: fields by BTF name, addresses as text, or hex bytes' };
const metadata = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mark: { type: 'integer', minimum: 0, maximum: 0xffffffff },
    priority: { type: 'integer', minimum: 0, maximum: 0xffffffff },
    cb: { type: 'array', maxItems: 5, items: { type: 'integer', minimum: 0, maximum: 0xffffffff } },
    tcIndex: { type: 'integer', minimum: 0, maximum: 0xffff },
    queueMapping: { type: 'integer', minimum: 0, maximum: 0xffff },
    hash: { type: 'integer', minimum: 0, maximum: 0xffffffff },
    arrivalNs: { type: 'integer', minimum: 0 },
  },
} as const;

export const SCENARIO_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://bpfbed.dev/scenario.schema.json',
  title: 'bpfbed scenario',
  description: 'The world a bpfbed run happens in (object, programs, environment, maps, packets) and what must come out of it.',
  type: 'object',
  additionalProperties: false,
  required: ['object', 'programs'],
  properties: {
    description: { type: 'string' },
    object: { type: 'string', description: 'BPF object file, relative to the scenario file' },
    programs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['program', 'attach'],
        properties: {
          program: { type: 'string' },
          attach: { enum: ['xdp', 'tc/ingress', 'tc/egress', 'socket'] },
          device: { type: 'string' },
        },
      },
    },
    cpus: { type: 'integer', minimum: 1, maximum: 4096 },
    cpu: { type: 'integer', minimum: 0 },
    budget: { type: 'integer', minimum: 1 },
    environment: { type: 'object', description: 'Devices, routes, neighbours, rules, sockets, clock and seed (src/env/environment.ts EnvironmentSpec)' },
    cluster: clusterSpecSchema,
    maps: {
      type: 'object',
      additionalProperties: {
        type: 'array',
        items: { type: 'object', additionalProperties: false, required: ['key', 'value'], properties: { key: typedValue, value: typedValue } },
      },
    },
    input: {
      type: 'object',
      additionalProperties: false,
      required: ['pcap'],
      properties: {
        pcap: { type: 'string' },
        device: { type: 'string' },
        direction: { enum: ['ingress', 'egress'] },
        metadata,
        followTimestamps: { type: 'boolean' },
        packets: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['packet'],
            properties: { ...metadata.properties, packet: { type: 'integer', minimum: 1 }, device: { type: 'string' }, direction: { enum: ['ingress', 'egress'] } },
          },
        },
      },
    },
    expect: {
      type: 'object',
      additionalProperties: false,
      properties: {
        verdicts: {
          type: 'array',
          items: {
            anyOf: [
              { type: 'string' },
              {
                type: 'object',
                additionalProperties: false,
                required: ['packet'],
                properties: { packet: { type: 'integer', minimum: 1 }, verdict: { type: 'string' }, output: { type: 'string' } },
              },
            ],
          },
        },
        outputs: { type: 'object', additionalProperties: { type: 'string' } },
        maps: {
          type: 'object',
          additionalProperties: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['key'],
              properties: { key: typedValue, value: typedValue, absent: { type: 'boolean' } },
            },
          },
        },
        printk: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;
