/**
 * Which of Helsedirektoratet's national cancer action programmes (handlingsprogram) a method is relevant to,
 * read from its indication. The codes are ours (HP-...), as the case system marks them in guidelineFlags.
 */
const cancerProgrammes: readonly [RegExp, string][] = [
  [/lungekreft|plateepitelkarsinom i lunge/, 'HP-LUNGE'],
  [/brystkreft/, 'HP-BRYST'],
  [/prostatakreft/, 'HP-PROSTATA'],
  [/tykk- og endetarmskreft|tykktarmskreft|endetarmskreft|levermetastaser/, 'HP-TYKK-ENDETARM'],
  [/(?<!uvealt )melanom/, 'HP-MELANOM'],
  [/lymfom/, 'HP-LYMFOM'],
  [/myelomatose/, 'HP-MYELOMATOSE'],
  [/eggstokkreft/, 'HP-EGGSTOKK'],
  [/leukemi/, 'HP-LEUKEMI'],
  [/nyrecellekarsinom/, 'HP-NYRE'],
  [/hepatocellulært karsinom/, 'HP-LEVER'],
  [/magekreft|spiserøret/, 'HP-SPISEROR-MAGE'],
  [/endometriekreft/, 'HP-LIVMOR'],
  [/livmorhalskreft/, 'HP-LIVMORHALS'],
  [/hode og hals/, 'HP-HODE-HALS'],
  [/urotelialt karsinom/, 'HP-BLAERE'],
  [/nevroendokrine svulster/, 'HP-NEVROENDOKRIN'],
];

export function cancerProgrammesFor(text: string): string[] {
  const lower = text.toLowerCase();
  return cancerProgrammes.filter(([pattern]) => pattern.test(lower)).map(([, code]) => code);
}
