// Types for the parts of format.js unit-tested from TypeScript (plain JavaScript served to the browser as is).

export declare function hours(h: number | null | undefined): string;
export declare function duration(ms: number | null | undefined): string;
export declare function pct(rate: number | null | undefined, digits?: number): string;
