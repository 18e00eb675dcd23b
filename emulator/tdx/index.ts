// Public surface of the TDX layer: the catalogue and decoders (read by the adapter, hovers, the
// fault menu and the CLI), the module and VMM models (driven by the platform layer through
// `TdxCpuAccess`), and fault plans. Import from here rather than from the individual files.

export * from './types';
export * from './catalog';
export * from './statusDecoder';
export { TdxModule, type TdxCallResult, type TdxCallOptions, type LeafOutcome, type VmcallRecord } from './module';
export { DEFAULT_TD_METADATA, type TdxModuleConfig, type TdxModuleState, type VeInfo, type TdMetadataField, type SysInitState, type TdmrState } from './moduleConfig';
export { VmmModel, decodeFatalErrorMessage, definedOutputs, type VmmConfig, type VmmExit, type VmmOverride, type VmmResult, type VmmState, type TdvmcallAnswer, type HostileVmmConfig } from './vmm';
export * from './faultPlan';
export { TDREPORT_LAYOUT, TDREPORT_TYPE_TDX, buildTdReport, rtmrExtend } from './tdreport';
export { seededValue, splitmix64 } from './prng';
export { SimpleTdxCpu } from './simpleCpu';
