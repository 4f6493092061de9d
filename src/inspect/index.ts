export { createFlowRecorder, type FlowEntry, type FlowRecorder, type FlowRecorderOptions } from './flowRecorder.js';
export { toMermaid } from './mermaid.js';
export { createRedactor, redact, redactString, type Redactor, type RedactorOptions } from './redact.js';
export { inspectorSanitizers, type InspectorSanitizers } from './statelySanitizers.js';
