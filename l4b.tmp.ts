const root = process.argv[2]!;
const { Machine } = await import(`${root}/impl/machine.ts`);
const P = 4096;
const config = { frames: 8, objects: 4 * P, accounts: 1, tasks: 2, containers: 1, capSlots: 8, vpages: P, containerSlots: 1, handles: 0 };
const m = new Machine(config);
const must = (op: any) => { if (m.exec(op) !== 0) throw new Error(JSON.stringify(op)); };
must({ op: "task.create", task: 0, account: 0, dest: 2 });
must({ op: "container.create", task: 0, account: 0, dest: 3 });
must({ op: "container.alloc", task: 0, container: 3, index: 0 });
must({ op: "page.map", task: 0, container: 3, index: 0, vpage: 0, rights: ["read", "write"] });
const l4maps: any[] = [], unmaps: any[] = [];
for (let v = 0; v < P; v++) { l4maps.push({ op: "l4.map", task: 0, vpage: 0, target: 2, dest: v, rights: ["read"] }); unmaps.push({ op: "page.unmap", task: 1, vpage: v, order: 0, mode: "all" }); }
let tm = 0, tu = 0;
for (let r = 0; r < 3000; r++) {
  const a = performance.now();
  for (let i = 0; i < P; i++) m.exec(l4maps[i]);
  const b = performance.now();
  for (let i = 0; i < P; i++) m.exec(unmaps[i]);
  const c = performance.now();
  if (r >= 500) { tm += b - a; tu += c - b; }
}
console.log(`map ${(tm * 1e6 / (2500 * P)).toFixed(1)} ns, unmap-one ${(tu * 1e6 / (2500 * P)).toFixed(1)} ns`);
