// The fault matrix (every call site under every applicable fault) and the ABI checks, for the
// CLI (`tdxdbg matrix`, `tdxdbg run`), the adapter and the extension's Test Explorer.

export { runMatrix, raxMeaning, type MatrixResult, type MatrixSite, type MatrixScenario, type MatrixAbi, type MatrixOutcome, type MatrixOptions, type MatrixStats } from './matrix';
export { applicableFaults, type SiteKind } from './applicable';
export { AbiMonitor, checkAsmOffsets, CALLEE_SAVED_SENTINELS, type AbiFinding } from './abi';
export { matrixTable, matrixJson, diffMatrix, siteLabel, scenarioResult } from './report';
