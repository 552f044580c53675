import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../src/scenario/parse.js';
import { SCENARIO_SCHEMA } from '../../src/scenario/schema.js';

const minimal = `
object: ../obj/examples/packet_summary.o
programs:
  - { program: nodeport, attach: tc/ingress, device: eth0 }
`;

describe('scenario files', () => {
  it('reads YAML and JSON alike', () => {
    const fromYaml = parseScenario(minimal);
    const fromJson = parseScenario(JSON.stringify(fromYaml));
    expect(fromJson).toEqual(fromYaml);
    expect(fromYaml.programs[0]).toEqual({ program: 'nodeport', attach: 'tc/ingress', device: 'eth0' });
  });

  it('names the place and the problem for a value the schema refuses', () => {
    const bad = minimal.replace('tc/ingress', 'tc/sideways');
    expect(() => parseScenario(bad, 'np.yaml')).toThrow(ScenarioError);
    expect(() => parseScenario(bad, 'np.yaml')).toThrow(/np\.yaml: programs\.0\.attach: must be equal to one of the allowed values \(xdp, tc\/ingress, tc\/egress, socket, cgroup\/bind4, /);
  });

  it('names an unknown field', () => {
    expect(() => parseScenario(minimal + 'expectations: {}\n', 'np.yaml')).toThrow(/\(top level\): must NOT have additional properties 'expectations'/);
  });

  it('names the line of a YAML syntax error', () => {
    expect(() => parseScenario('object: x\nprograms: [\n', 'broken.yaml')).toThrow(/broken\.yaml: line \d+, column \d+/);
  });

  it('requires the object and at least one program', () => {
    expect(() => parseScenario('programs: []\n')).toThrow(/must have required property 'object'/);
    expect(() => parseScenario('object: a.o\nprograms: []\n')).toThrow(/programs: must NOT have fewer than 1 items/);
  });

  it('publishes the schema it checks against in docs/', () => {
    const published = JSON.parse(readFileSync(join(import.meta.dirname, '../../docs/scenario.schema.json'), 'utf8'));
    expect(published).toEqual(JSON.parse(JSON.stringify(SCENARIO_SCHEMA)));
  });

  describe('socket scenarios', () => {
    const sockets = `
object: ../obj/kpr/sock.o
programs:
  - { program: sock4_connect, attach: cgroup/connect4 }
sockets:
  servers: [{ tcp: "10.0.1.5:80" }]
  calls:
    - { socket: web, open: tcp }
    - { socket: web, connect: 10.96.0.10:80, expect: { reached: 10.0.1.5:80 } }
    - { socket: web, getpeername: true, expect: { peer: 10.96.0.10:80 } }
`;

    it('reads the servers and the calls with their expectations', () => {
      const s = parseScenario(sockets, 'sock.yaml');
      expect(s.programs[0].attach).toBe('cgroup/connect4');
      expect(s.sockets!.servers).toEqual([{ tcp: '10.0.1.5:80' }]);
      expect(s.sockets!.calls[1]).toEqual({ socket: 'web', connect: '10.96.0.10:80', expect: { reached: '10.0.1.5:80' } });
    });

    it('refuses a call with two operations or none', () => {
      expect(() => parseScenario(sockets.replace('{ socket: web, getpeername: true,', '{ socket: web, getpeername: true, recvmsg: true,'), 'sock.yaml')).toThrow('sock.yaml: sockets.calls.2: must have exactly one operation (open, connect, sendmsg, send, recvmsg, getpeername)');
      expect(() => parseScenario(sockets.replace('{ socket: web, getpeername: true,', '{ socket: web,'), 'sock.yaml')).toThrow(/sockets\.calls\.2/);
    });

    it('refuses an address without a port', () => {
      expect(() => parseScenario(sockets.replace('connect: 10.96.0.10:80', 'connect: 10.96.0.10'), 'sock.yaml')).toThrow(/sockets\.calls\.1\.connect: must match pattern/);
    });

    it('names a socket used before it is opened', () => {
      expect(() => parseScenario(sockets.replace('{ socket: web, getpeername', '{ socket: api, getpeername'), 'sock.yaml')).toThrow("sock.yaml: sockets.calls.2: socket 'api' is used before its open call");
    });

    it('keeps cgroup hooks and packets apart', () => {
      expect(() => parseScenario(sockets + 'input: { pcap: a.pcap }\n', 'sock.yaml')).toThrow(/either input \(packets\) or sockets/);
      expect(() => parseScenario(sockets.replace(/sockets:[\s\S]*/, ''), 'sock.yaml')).toThrow(/sock4_connect is attached to cgroup\/connect4; cgroup hooks run in a socket scenario/);
      expect(() => parseScenario(sockets.replace('cgroup/connect4', 'xdp'), 'sock.yaml')).toThrow(/sock4_connect \(xdp\) is a packet program/);
    });
  });

  describe('parity rules', () => {
    const withParity = (rule: string) => `${minimal}parity:\n  - ${rule}\n`;

    it('reads each rule of the vocabulary', () => {
      const s = parseScenario(
        `${minimal}parity:
  - { rule: clock-deadline, map: ct4, field: expires_ns, since: created_ns, lifetimes: [{ when: { proto: 6 }, bits: { flags: 2 }, seconds: 10 }, { seconds: 60 }] }
  - { rule: in-range, map: snat4, field: port, min: 32768, max: 60999 }
  - { rule: one-of-backends, service: "10.96.0.10:53", backends: ["10.0.1.5:53", "10.0.2.6:53"] }
  - { rule: same-in-both, map: lb4_reverse_sk, socket: { key.cookie: cookie, key.address: reached.addr } }
`,
      );
      expect(s.parity!.map((r) => r.rule)).toEqual(['clock-deadline', 'in-range', 'one-of-backends', 'same-in-both']);
    });

    it("names an unknown rule and a rule's missing field", () => {
      expect(() => parseScenario(withParity('{ rule: roughly-equal, map: ct4 }'), 'p.yaml')).toThrow('p.yaml: parity.0.rule: must be one of clock-deadline, in-range, one-of-backends, same-in-both');
      expect(() => parseScenario(withParity('{ rule: in-range, map: snat4, field: port, min: 1 }'), 'p.yaml')).toThrow(/parity\.0: must have required property 'max'/);
      expect(() => parseScenario(withParity('{ rule: same-in-both, map: m, socket: { cookie: peer } }'), 'p.yaml')).toThrow(/parity\.0\.socket\.cookie: must be equal to one of the allowed values \(cookie, reached\.addr, reached\.port\)/);
    });
  });
});
