// The lab's HTTP flood: many client addresses of the attacker namespace
// completing handshakes and sending requests to the victim's web server.
import type { Attack } from './attacks.ts';

export const HTTP_ATTACKS: readonly Attack[] = [];
