// A module an object server offers to objects.import in the ObjectClient tests.

export class Counter {
  n: number;
  constructor(n: number) {
    this.n = n;
  }
  inc(): number {
    return ++this.n;
  }
}
