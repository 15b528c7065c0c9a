// A separate process that opens (adopts) Breakwater on an interface, does one
// thing and exits: how tests prove that state survives the process that made it.
//   node --import tsx test/helpers/xdp-driver.ts '{"iface":"x","netns":"y","op":"info"}'
import { Breakwater } from '../../native/index.ts';

const req = JSON.parse(process.argv[2] ?? '{}') as { iface: string; netns?: string; op: string; source?: string };
const bw = Breakwater.attach(req.iface, { netns: req.netns });
let out: unknown;
switch (req.op) {
  case 'info':
    out = { info: bw.info, rules: bw.listRules(), counters: bw.snapshot(0).counters };
    break;
  case 'add':
    bw.addRule({ source: req.source ?? '' });
    out = { rules: bw.listRules() };
    break;
  default:
    throw new Error(`unknown op ${req.op}`);
}
bw.close();
process.stdout.write(JSON.stringify(out));
