/**
 * prom-client metrics for series updated on every request. prom-client's children (`counter.labels(...)`) hash all
 * label values into a string and validate them on every `inc`/`observe`: with the edge labels (SPIFFE IDs, service
 * names) that is hundreds of bytes of garbage and a few microseconds per update, three updates per request. These
 * subclasses hand out a {@link SeriesHandle} per label set instead, created once (the data path caches them per
 * edge), whose updates touch numbers only; a scrape exports the series exactly as prom-client would (same text).
 *
 * Updates through prom-client's own API (`inc(labels)`, `labels(...)`) still work and are exported alongside.
 */
import { Counter, Gauge, Histogram, type LabelValues, type MetricObjectWithValues, type MetricValue, type MetricValueWithName } from 'prom-client';

/** One label set's value. */
interface Series<T extends string> {
  readonly labels: LabelValues<T>;
  value: number;
}

/** Updates one series. */
export interface SeriesHandle {
  inc(amount?: number): void;
  dec(amount?: number): void;
}

class Handle<T extends string> implements SeriesHandle {
  readonly #series: Series<T>;
  constructor(series: Series<T>) {
    this.#series = series;
  }
  inc(amount = 1): void {
    this.#series.value += amount;
  }
  dec(amount = 1): void {
    this.#series.value -= amount;
  }
}

/** Label names in the metric's order (the order prom-client exports them in). */
function ordered<T extends string>(labelNames: readonly T[], labels: LabelValues<T>): LabelValues<T> {
  const out: LabelValues<T> = {};
  for (const name of labelNames) out[name] = labels[name] ?? '';
  return Object.freeze(out);
}

function keyOf<T extends string>(labelNames: readonly T[], labels: LabelValues<T>): string {
  let key = '';
  for (const name of labelNames) key += `${String(labels[name] ?? '')}\u0000`;
  return key;
}

type Values<T extends string> = MetricObjectWithValues<MetricValue<T>>;

/** The handle-updated series of one counter or gauge. */
class ValueSeries<T extends string> {
  readonly #names: readonly T[];
  readonly #all = new Map<string, Series<T>>();

  constructor(names: readonly T[]) {
    this.#names = names;
  }

  handle(labels: LabelValues<T>): SeriesHandle {
    const key = keyOf(this.#names, labels);
    let series = this.#all.get(key);
    if (series === undefined) {
      series = { labels: ordered(this.#names, labels), value: 0 };
      this.#all.set(key, series);
    }
    return new Handle(series);
  }

  /** Appends the series to prom-client's export of the same metric. */
  exportInto(data: Values<T>): Values<T> {
    for (const s of this.#all.values()) data.values.push({ value: s.value, labels: s.labels });
    return data;
  }

  reset(): void {
    for (const s of this.#all.values()) s.value = 0;
  }
}

/** A counter whose hot series are updated through handles (never decremented: {@link SeriesHandle.dec} is for gauges). */
export class SeriesCounter<T extends string> extends Counter<T> {
  readonly #series: ValueSeries<T>;

  constructor(config: ConstructorParameters<typeof Counter<T>>[0] & { readonly labelNames: readonly T[] }) {
    super(config);
    this.#series = new ValueSeries(config.labelNames);
  }

  /** The handle of the series with `labels` (created at 0). */
  handle(labels: LabelValues<T>): SeriesHandle {
    return this.#series.handle(labels);
  }

  override async get(): Promise<Values<T>> {
    return this.#series.exportInto(await super.get());
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor calls reset() before this class's fields exist.
    if (#series in this) this.#series.reset();
  }
}

/** A gauge whose hot series are updated through handles. */
export class SeriesGauge<T extends string> extends Gauge<T> {
  readonly #series: ValueSeries<T>;

  constructor(config: ConstructorParameters<typeof Gauge<T>>[0] & { readonly labelNames: readonly T[] }) {
    super(config);
    this.#series = new ValueSeries(config.labelNames);
  }

  handle(labels: LabelValues<T>): SeriesHandle {
    return this.#series.handle(labels);
  }

  override async get(): Promise<Values<T>> {
    return this.#series.exportInto(await super.get());
  }

  override reset(): void {
    super.reset();
    if (#series in this) this.#series.reset();
  }
}

/** Observes one histogram series. */
export interface ObserveHandle {
  observe(value: number): void;
}

interface HistogramSeries<T extends string> {
  readonly labels: LabelValues<T>;
  /** Per bucket (not cumulative); the last slot counts values above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

class Observer<T extends string> implements ObserveHandle {
  readonly #series: HistogramSeries<T>;
  readonly #bounds: readonly number[];
  constructor(series: HistogramSeries<T>, bounds: readonly number[]) {
    this.#series = series;
    this.#bounds = bounds;
  }
  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    const s = this.#series;
    s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }
}

type HistogramValues<T extends string> = MetricObjectWithValues<MetricValueWithName<T>>;

/** A prom-client export value with the series labels passed apart (`sharedLabels`), as prom-client's histograms export them. */
type ExportValue<T extends string> = MetricValueWithName<T> & { readonly sharedLabels?: LabelValues<T>; readonly exemplar?: null | undefined };

/** The same object, key order included, as prom-client's histogram export builds (`setValuePair`). */
function exportValue<T extends string>(labels: LabelValues<T>, sharedLabels: LabelValues<T>, value: number, metricName: string, exemplar: null | undefined): ExportValue<T> {
  return { labels, sharedLabels, value, metricName, exemplar };
}

/** A histogram whose hot series are observed through handles. */
export class SeriesHistogram<T extends string> extends Histogram<T> {
  readonly #name: string;
  readonly #names: readonly T[];
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries<T>>();

  constructor(config: Omit<ConstructorParameters<typeof Histogram<T>>[0], 'buckets'> & { readonly labelNames: readonly T[]; readonly buckets: readonly number[] }) {
    super({ ...config, buckets: [...config.buckets] });
    this.#name = config.name;
    this.#names = config.labelNames;
    this.#bounds = Object.freeze([...config.buckets].sort((a, b) => a - b));
  }

  handle(labels: LabelValues<T>): ObserveHandle {
    const key = keyOf(this.#names, labels);
    let series = this.#series.get(key);
    if (series === undefined) {
      series = { labels: ordered(this.#names, labels), counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    return new Observer(series, this.#bounds);
  }

  /** What the registry formats: per series, cumulative `_bucket`s (`le` apart from the series labels), `_sum`, `_count`. */
  async getForPromString(): Promise<HistogramValues<T>> {
    // prom-client's own export (series updated through its API, and its `collect` hook), then ours.
    const inherited = Histogram.prototype as unknown as { getForPromString(this: Histogram<T>): Promise<HistogramValues<T>> };
    const base = await inherited.getForPromString.call(this);
    const values = base.values as ExportValue<T>[];
    const bucket = `${this.#name}_bucket`;
    for (const s of this.#series.values()) {
      let acc = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        acc += s.counts[i]!;
        values.push(exportValue({ le: this.#bounds[i] } as LabelValues<T>, s.labels, acc, bucket, null));
      }
      values.push(
        exportValue({ le: '+Inf' } as LabelValues<T>, s.labels, s.count, bucket, null),
        exportValue({}, s.labels, s.sum, `${this.#name}_sum`, undefined),
        exportValue({}, s.labels, s.count, `${this.#name}_count`, undefined),
      );
    }
    return base;
  }

  override async get(): Promise<HistogramValues<T>> {
    const data = await this.getForPromString();
    data.values = (data.values as ExportValue<T>[]).map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }

  override reset(): void {
    super.reset();
    if (!(#series in this)) return; // called by prom-client's constructor, before this class's fields exist
    for (const s of this.#series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
