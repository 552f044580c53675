import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Testbed } from '../../src/testbed/testbed.js';
import { TypedValueError } from '../../src/typed/typed-value.js';

let bed: Testbed;
beforeAll(async () => {
  bed = await Testbed.fromObject(new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj/typed/lb_types.o'))), { name: 'lb_types.o' });
});

describe('typed map entries', () => {
  it('writes IPv4 addresses and ports in text and host order, stored in network order', () => {
    const services = bed.typedMap('services');
    expect(services.set({ address: '10.96.0.10', dport: 80, proto: 6 }, { address: '10.0.1.5', port: 8080, proto: 6 })).toBe(0);
    const [entry] = services.map.dump().entries;
    expect([...entry.key.subarray(0, 6)]).toEqual([10, 96, 0, 10, 0, 80]);
    expect([...entry.value.subarray(0, 6)]).toEqual([10, 0, 1, 5, 0x1f, 0x90]);
    expect(services.get({ address: '10.96.0.10', dport: 80, proto: 6 })).toEqual({ address: '10.0.1.5', port: 8080, proto: 6, flags: 0 });
    expect(services.entries()).toEqual([
      {
        key: { address: '10.96.0.10', dport: 80, backend_slot: 0, proto: 6, scope: 0, pad: [0, 0] },
        value: { address: '10.0.1.5', port: 8080, proto: 6, flags: 0 },
      },
    ]);
  });

  it('reads IPv6 addresses into unions with anonymous members, MACs and char arrays', () => {
    const ct = bed.typedMap('ct6');
    const key = { saddr: 'fd00::1', daddr: '2001:db8::10', sport: 51234, dport: 443, nexthdr: 6 };
    expect(ct.set(key, { to_mac: '02:00:00:00:0a:01', to_saddr: '192.168.1.10', to_sport: 40001, created: 123n, name: 'kube' })).toBe(0);
    const [entry] = ct.entries();
    expect(entry.key).toMatchObject({ saddr: 'fd00::1', daddr: '2001:db8::10', sport: 51234, dport: 443, nexthdr: 6 });
    expect(entry.value).toEqual({ to_mac: '02:00:00:00:0a:01', to_saddr: '192.168.1.10', to_sport: 40001, created: 123n, name: 'kube' });
    const raw = ct.map.dump().entries[0].key;
    expect([...raw.subarray(0, 2)]).toEqual([0xfd, 0x00]);
    expect([...raw.subarray(32, 34)]).toEqual([0xc8, 0x22]); // 51234 in network order
  });

  it('accepts raw hex and host-order numbers for the same fields', () => {
    const services = bed.typedMap('services');
    services.set('0a 60 00 0b 00 35 00 00 11 00 00 00', { address: 0x0a000106, port: 53, proto: 17 });
    expect(services.get({ address: '10.96.0.11', dport: 53, proto: 17 })).toMatchObject({ address: '10.0.1.6', port: 53 });
  });

  it('reports the differences from a partial expected value', () => {
    const services = bed.typedMap('services');
    const key = { address: '10.96.0.10', dport: 80, proto: 6 };
    expect(services.diff(key, { address: '10.0.1.5' })).toEqual([]);
    expect(services.diff(key, { address: '10.0.1.9', port: 8080 })).toEqual([
      'services[{"address":"10.96.0.10","dport":80,"proto":6}].address: 10.0.1.9 expected, 10.0.1.5 found',
    ]);
  });

  it('names the field and the struct when a field does not exist or a value does not parse', () => {
    const services = bed.typedMap('services');
    expect(() => services.set({ adress: '10.0.0.1' }, {})).toThrow(TypedValueError);
    expect(() => services.set({ adress: '10.0.0.1' }, {})).toThrow(/services key: struct lb4_key has no field 'adress' \(fields: address, dport/);
    expect(() => services.set({ address: '10.0.0.300' }, {})).toThrow(/services key\.address/);
  });
});
