// Reverse execution: checkpoints of a Session's complete state and the Timeline that steps,
// seeks and continues backwards over them, with what-if branches.

export { CheckpointStore, type Checkpoint, type PageCopy } from './checkpoint';
export { Timeline, type TimelineOptions, type Branch, type TravelResult, type HistoryEvent, type ReverseStepKind } from './timeline';
