// Content checksums (statements, schemas): hex SHA-256 of the UTF-8 text.
import { createHash } from 'node:crypto';

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
