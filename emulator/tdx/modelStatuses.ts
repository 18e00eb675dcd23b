// The statuses the module model returns, by ABI name, looked up once from the catalogue so a
// typo fails at load time rather than producing a wrong number at run time.

import { catalogValues, findStatus } from './catalog';

const NAMES = [
  'TDX_SUCCESS', 'TDX_OPERAND_INVALID', 'TDX_RND_NO_ENTROPY', 'TDX_NO_VALID_VE_INFO',
  'TDX_PAGE_ALREADY_ACCEPTED', 'TDX_PAGE_SIZE_MISMATCH',
  'TDX_METADATA_FIELD_ID_INCORRECT', 'TDX_METADATA_FIELD_NOT_WRITABLE', 'TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT',
  'TDX_SYS_INIT_NOT_PENDING', 'TDX_SYS_LP_INIT_NOT_DONE', 'TDX_SYS_LP_INIT_DONE', 'TDX_SYS_NOT_READY',
  'TDX_SYS_SHUTDOWN', 'TDX_SYS_KEY_CONFIG_NOT_PENDING', 'TDX_SYS_STATE_INCORRECT', 'TDX_SYS_LP_INIT_NOT_PENDING',
  'TDX_SYS_CONFIG_NOT_PENDING', 'TDX_KEY_CONFIGURED', 'TDX_INVALID_TDMR', 'TDX_NON_ORDERED_TDMR',
  'TDX_TDMR_ALREADY_INITIALIZED',
] as const;

/** Catalogued values of the statuses the model produces. */
export const TDX_STATUS = catalogValues('modelStatuses', NAMES, findStatus);
