// Public surface of the object loader.
export { loadObject, objectNameFromFile, withKconfig, type LoadObjectOptions } from './object.js';
export {
  KCONFIG_DEFAULTS,
  KconfigError,
  kernelVersionCode,
  kernelVersionFromRelease,
  parseKconfigText,
  resolveKconfig,
  type KconfigExtern,
  type KconfigSpec,
  type KconfigType,
  type KconfigValue,
  type KconfigValues,
} from './kconfig.js';
export { ObjectLoadError } from './errors.js';
export {
  cloneObjectSpec,
  functionAt,
  lineInfoAt,
  mapIndexByName,
  programByName,
  type CoreRelo,
  type FuncInfo,
  type FunctionRange,
  type LineInfo,
  type MapReference,
  type MapSlot,
  type MapSpec,
  type ObjectSpec,
  type ProgramSpec,
} from './spec.js';
export { findSectionDef, programTypeForSection, SECTION_DEFS, type SectionDef, type SectionProgramType } from './sections.js';
export * from './uapi.js';
