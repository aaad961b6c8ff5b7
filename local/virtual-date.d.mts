/** What a clock is: `virtualAnchor` (epoch ms) at the real instant `realAnchor`, running `scale`× real time. */
export interface ClockSpec {
  scale: number;
  realAnchor: number;
  virtualAnchor: number;
}
export declare const realNow: () => number;
export declare function virtualNow(spec: ClockSpec): number;
export declare function installVirtualDate(spec: ClockSpec): DateConstructor;
