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

const endpoint = { type: 'string', pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[0-9.]+):[0-9]{1,5}$', description: 'address:port, [v6]:port for IPv6' } as const;
const mapField = { map: { type: 'string', minLength: 1 }, field: { type: 'string', minLength: 1 } } as const;

/** The cgroup socket address hooks (libbpf section names), for socket scenarios. */
const CGROUP_HOOKS = ['bind', 'connect', 'sendmsg', 'recvmsg', 'getpeername', 'getsockname'].flatMap((c) => [`cgroup/${c}4`, `cgroup/${c}6`]);

/** The operations of a socket call; each call has exactly one. */
export const SOCKET_OPERATIONS = ['open', 'connect', 'sendmsg', 'send', 'recvmsg', 'getpeername'] as const;

/** The parity rule vocabulary (src/scenario/parity.ts). */
export const PARITY_RULES = ['clock-deadline', 'in-range', 'one-of-backends', 'same-in-both'] as const;

const socketCall = {
  type: 'object',
  additionalProperties: false,
  required: ['socket'],
  // exactly one operation per call
  oneOf: SOCKET_OPERATIONS.map((op) => ({ required: [op] })),
  properties: {
    socket: { type: 'string', minLength: 1, description: 'the socket, named by its open call' },
    open: { enum: ['tcp', 'udp', 'tcp6', 'udp6'] },
    connect: endpoint,
    sendmsg: endpoint,
    send: { const: true },
    recvmsg: { const: true },
    getpeername: { const: true },
    payload: { type: 'string' },
    expect: {
      type: 'object',
      additionalProperties: false,
      properties: { error: { type: 'string', pattern: '^E[A-Z0-9]+$' }, reached: endpoint, peer: endpoint, from: endpoint },
    },
  },
} as const;

/** `when` of in-range and same-in-both: entry fields (BTF names) and the values they must have. */
const entryCondition = { type: 'object', additionalProperties: { type: ['integer', 'string'] } } as const;

const parityRule = {
  type: 'object',
  required: ['rule'],
  // ajv picks the branch by `rule`, so an error names the rule's own problem
  discriminator: { propertyName: 'rule' },
  oneOf: [
    {
      additionalProperties: false,
      required: ['rule', 'map', 'field', 'since', 'lifetimes'],
      properties: {
        rule: { const: 'clock-deadline' },
        ...mapField,
        since: { type: 'string', minLength: 1 },
        lifetimes: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['seconds'],
            properties: {
              when: { type: 'object', additionalProperties: { type: 'integer' } },
              bits: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
              seconds: { type: 'number', minimum: 0 },
            },
          },
        },
        slackSeconds: { type: 'number', minimum: 0 },
      },
    },
    {
      additionalProperties: false,
      required: ['rule', 'map', 'field', 'min', 'max'],
      properties: { rule: { const: 'in-range' }, ...mapField, when: entryCondition, min: { type: 'integer' }, max: { type: 'integer' } },
    },
    {
      additionalProperties: false,
      required: ['rule', 'service', 'backends'],
      properties: { rule: { const: 'one-of-backends' }, service: endpoint, backends: { type: 'array', minItems: 1, items: endpoint } },
    },
    {
      additionalProperties: false,
      required: ['rule', 'map'],
      // what the entries are linked to: the run's sockets or its output packets
      oneOf: [{ required: ['socket'] }, { required: ['packet'] }],
      properties: {
        rule: { const: 'same-in-both' },
        map: { type: 'string', minLength: 1 },
        when: entryCondition,
        socket: { type: 'object', minProperties: 1, additionalProperties: { enum: ['cookie', 'reached.addr', 'reached.port'] } },
        packet: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', pattern: '^[a-z][a-z0-9_.]*$' } },
      },
    },
  ],
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
          attach: { enum: ['xdp', 'tc/ingress', 'tc/egress', 'socket', ...CGROUP_HOOKS] },
          device: { type: 'string' },
        },
      },
    },
    cpus: { type: 'integer', minimum: 1, maximum: 4096 },
    cpu: { type: 'integer', minimum: 0 },
    budget: { type: 'integer', minimum: 1 },
    kconfig: {
      type: 'object',
      description:
        'Values of the object\'s __kconfig externs, over bpfbed\'s defaults (src/loader/kconfig.ts KCONFIG_DEFAULTS): y, m, n, an integer, a string, or for LINUX_KERNEL_VERSION a release such as 6.18.0',
      propertyNames: { pattern: '^(CONFIG|LINUX)_[A-Za-z0-9_]+$' },
      additionalProperties: { type: ['string', 'integer', 'boolean'] },
    },
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
    sockets: {
      type: 'object',
      description: 'A socket scenario: socket calls of one process in a cgroup with the programs attached',
      additionalProperties: false,
      required: ['calls'],
      properties: {
        servers: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1, properties: { tcp: endpoint, udp: endpoint } },
        },
        calls: { type: 'array', minItems: 1, items: socketCall },
      },
    },
    parity: {
      type: 'array',
      description: 'Fields the kernel\'s clock or randomness makes differ, and the rule that holds instead',
      items: parityRule,
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
